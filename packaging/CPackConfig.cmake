# Installer packages: .deb (Debian 12 / Ubuntu), .rpm and a relocatable .tar.gz, made by CPack
# from the install() rules of the whole tree. Included once from the top CMakeLists.txt.
#
#   cmake --build BUILD && (cd BUILD && cpack -G DEB)      # or -G RPM, -G TGZ, or plain `cpack`
#
# packaging/check-deb.sh builds the .deb from an existing build tree and checks it (lintian,
# install, run, remove). Layout (FHS, relative to the prefix: /usr for .deb/.rpm, the unpacked
# folder for .tar.gz):
#   bin/meswitch, bin/meswitch-studio
#   share/applications/meswitch-studio.desktop, share/icons/hicolor/*/apps/meswitch-studio.*
#   share/metainfo/io.github.meswitch.Studio.metainfo.xml
#   share/man/man1/meswitch.1.gz (generated from `meswitch --help`), meswitch-studio.1.gz
#   share/meswitch-studio/demo/ (the demo pack; its install rule is in resources/demo)
#   share/doc/meswitch-studio/{copyright,changelog.Debian.gz,README.md}
# The UI translations are compiled into the binary (:/i18n), so no .qm files are installed; Qt's
# own translations come from the system (qt6-translations-l10n). Nothing is written under the
# prefix at run time: all data goes to the data folder (engine/include/meswitch/paths.h).

if(MESWITCH_SANITIZE)
  return()  # no packages from a sanitizer build (and no sanitized tool runs at build time)
endif()

set(_pkg_dir ${CMAKE_CURRENT_LIST_DIR})
set(_pkg_out ${CMAKE_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_pkg_out})

find_program(MESWITCH_GZIP gzip REQUIRED)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# --- man pages ----------------------------------------------------------------------------
# meswitch.1 is generated from the CLI's own --help texts, so it never goes stale.
add_custom_command(
  OUTPUT ${_pkg_out}/meswitch.1.gz
  COMMAND ${CMAKE_COMMAND} -E env MESWITCH_HOME=${_pkg_out}/manpage-home
          ${CMAKE_COMMAND} -DMESWITCH_EXE=$<TARGET_FILE:meswitch> -DOUT=${_pkg_out}/meswitch.1
          -DVERSION=${PROJECT_VERSION} -P ${_pkg_dir}/make-manpage.cmake
  COMMAND ${MESWITCH_GZIP} -9nf ${_pkg_out}/meswitch.1
  DEPENDS meswitch ${_pkg_dir}/make-manpage.cmake
  COMMENT "Generating the meswitch(1) man page from meswitch --help"
  VERBATIM)
set(_pkg_generated ${_pkg_out}/meswitch.1.gz)
install(FILES ${_pkg_out}/meswitch.1.gz DESTINATION share/man/man1)

if(MESWITCH_BUILD_APP)
  configure_file(${_pkg_dir}/meswitch-studio.1.in ${_pkg_out}/meswitch-studio.1 @ONLY)
  add_custom_command(
    OUTPUT ${_pkg_out}/meswitch-studio.1.gz
    COMMAND ${MESWITCH_GZIP} -9nc ${_pkg_out}/meswitch-studio.1 > ${_pkg_out}/meswitch-studio.1.gz
    DEPENDS ${_pkg_out}/meswitch-studio.1
    VERBATIM)
  list(APPEND _pkg_generated ${_pkg_out}/meswitch-studio.1.gz)
  install(FILES ${_pkg_out}/meswitch-studio.1.gz DESTINATION share/man/man1)

  # --- desktop integration (the .desktop entry and icons 16..256 are installed by app/studio) --
  configure_file(${_pkg_dir}/io.github.meswitch.Studio.metainfo.xml
    ${_pkg_out}/io.github.meswitch.Studio.metainfo.xml @ONLY)
  install(FILES ${_pkg_out}/io.github.meswitch.Studio.metainfo.xml DESTINATION share/metainfo)
  foreach(size 22 24 512)
    install(FILES ${_pkg_dir}/icons/meswitch-studio-${size}.png
      DESTINATION share/icons/hicolor/${size}x${size}/apps RENAME meswitch-studio.png)
  endforeach()
endif()

# --- documentation --------------------------------------------------------------------------
set(MESWITCH_PACKAGE_RELEASE 1)
set(MESWITCH_PACKAGE_VERSION ${PROJECT_VERSION}-${MESWITCH_PACKAGE_RELEASE})
configure_file(${_pkg_dir}/changelog.in ${_pkg_out}/changelog.Debian @ONLY)
add_custom_command(
  OUTPUT ${_pkg_out}/changelog.Debian.gz
  COMMAND ${MESWITCH_GZIP} -9nc ${_pkg_out}/changelog.Debian > ${_pkg_out}/changelog.Debian.gz
  DEPENDS ${_pkg_out}/changelog.Debian
  VERBATIM)
list(APPEND _pkg_generated ${_pkg_out}/changelog.Debian.gz)
install(FILES ${_pkg_dir}/copyright ${_pkg_out}/changelog.Debian.gz ${PROJECT_SOURCE_DIR}/README.md
  DESTINATION share/doc/meswitch-studio)

add_custom_target(meswitch_packaging_files ALL DEPENDS ${_pkg_generated})

# --- CPack ----------------------------------------------------------------------------------
set(CPACK_PACKAGE_NAME meswitch-studio)
set(CPACK_PACKAGE_VENDOR "The ME-Switch Studio developers")
set(CPACK_PACKAGE_CONTACT "ME-Switch Studio developers <meswitch-studio@users.noreply.github.com>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "https://github.com/meswitch/meswitch-studio")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "one base language model and many compressed fine-tuned experts")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CHECKSUM SHA256)

# The description (Debian wraps it: one paragraph per line here, " ." between them).
if(MESWITCH_HAVE_CUDA)
  set(_pkg_gpu_text
    "This build includes the GPU path (CUDA kernels, CUDA runtime linked statically). It uses an NVIDIA GPU when the NVIDIA driver (libcuda.so.1, supporting CUDA ${CUDAToolkit_VERSION_MAJOR}) and cuBLAS (libcublas.so.${CUDAToolkit_VERSION_MAJOR}, from the NVIDIA CUDA Toolkit ${CUDAToolkit_VERSION_MAJOR}) are installed. Without them or without a GPU it runs on the CPU and says so (`meswitch info`).")
else()
  set(_pkg_gpu_text
    "This build runs on the CPU only. For the GPU path install the NVIDIA CUDA Toolkit (12 or newer, with cuBLAS) and the NVIDIA driver, then build from source (scripts/run.sh in the source tree finds nvcc automatically). `meswitch info` shows which path a binary has.")
endif()
set(_pkg_paragraphs
  "ME-Switch Studio keeps one base language model and many fine-tuned experts of it on one machine. Each expert is stored as a compressed delta against the base (salient-aware mixed-precision quantization, the ME-Switch method), so one GPU holds many experts. It keeps a catalog of models, experts and their domains, and chats while routing each prompt to the expert that suits it."
  "The package contains the Qt 6 desktop application (meswitch-studio) and the command line tool (meswitch)."
  "${_pkg_gpu_text}")
# (No ';' in the texts: they are list elements.)
string(JOIN "\n\n" CPACK_PACKAGE_DESCRIPTION ${_pkg_paragraphs})

# The same text wrapped at 78 columns (lintian wants lines under 80), paragraphs separated by an
# empty line: CPackDeb indents it and turns empty lines into " ." itself, and puts
# CPACK_PACKAGE_DESCRIPTION_SUMMARY in front as the synopsis line.
set(_pkg_plain_desc "")
foreach(_par IN LISTS _pkg_paragraphs)
  if(NOT _pkg_plain_desc STREQUAL "")
    string(APPEND _pkg_plain_desc "\n\n")
  endif()
  string(REPLACE " " ";" _words "${_par}")
  set(_line "")
  foreach(_w IN LISTS _words)
    string(LENGTH "${_line} ${_w}" _len)
    if(_line STREQUAL "")
      set(_line "${_w}")
    elseif(_len GREATER 78)
      string(APPEND _pkg_plain_desc "${_line}\n")
      set(_line "${_w}")
    else()
      string(APPEND _line " ${_w}")
    endif()
  endforeach()
  string(APPEND _pkg_plain_desc "${_line}")
endforeach()

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${MESWITCH_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${_pkg_plain_desc}")
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Depends: the linked libraries, found by dpkg-shlibdeps (on Debian 12 libqt6gui6 also carries the
# xcb and offscreen platform plugins). Recommended: the other Qt platform plugins, CJK fonts for
# the Chinese UI and Qt's own translated dialogs.
if(MESWITCH_BUILD_APP)
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-qpa-plugins, fonts-noto-cjk, qt6-translations-l10n")
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "qt6-wayland")
endif()

set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE ${MESWITCH_PACKAGE_RELEASE})
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "Applications/Engineering")
set(CPACK_RPM_PACKAGE_URL ${CPACK_PACKAGE_HOMEPAGE_URL})
set(CPACK_RPM_PACKAGE_DESCRIPTION "${_pkg_plain_desc}")
# Shared-library requirements (libQt6*.so.6, libspdlog, libopenblas, ...) come from rpmbuild's
# automatic ELF scan; the CJK fonts are only suggested (names as in Fedora).
set(CPACK_RPM_PACKAGE_AUTOREQ yes)
set(CPACK_RPM_PACKAGE_AUTOPROV no)
if(MESWITCH_BUILD_APP)
  # Written into the spec's preamble: CMake 3.25 drops CPACK_RPM_PACKAGE_SUGGESTS because its
  # probe for weak-dependency support (`rpm --suggests` without a package) always fails.
  set(CPACK_RPM_SPEC_MORE_DEFINE
    "Suggests: google-noto-sans-cjk-fonts\nSuggests: qt6-qttranslations")
endif()
# Folders owned by the distribution's filesystem package, not by us.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /usr/share/applications /usr/share/metainfo /usr/share/man /usr/share/man/man1
  /usr/share/icons /usr/share/icons/hicolor /usr/share/doc)
foreach(size 16 22 24 32 48 64 128 256 512)
  list(APPEND CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/icons/hicolor/${size}x${size} /usr/share/icons/hicolor/${size}x${size}/apps)
endforeach()
list(APPEND CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /usr/share/icons/hicolor/scalable /usr/share/icons/hicolor/scalable/apps)

# Relocatable archive: everything below one folder, no absolute paths inside the binaries.
set(CPACK_PACKAGE_FILE_NAME
  ${CPACK_PACKAGE_NAME}-${PROJECT_VERSION}-linux-${CMAKE_SYSTEM_PROCESSOR})
set(CPACK_ARCHIVE_THREADS 0)

set(CPACK_GENERATOR DEB TGZ)
find_program(MESWITCH_RPMBUILD rpmbuild)
if(MESWITCH_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()

include(CPack)
