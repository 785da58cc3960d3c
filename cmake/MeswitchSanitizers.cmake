# Sanitizer and fuzzing builds.
#   MESWITCH_SANITIZE=ON  everything is compiled and linked with AddressSanitizer + UBSan (any
#                         UB report is fatal): the engine tests then run under both.
#   MESWITCH_FUZZ=ON      (clang only; implies MESWITCH_SANITIZE) also builds the libFuzzer
#                         targets of tests/fuzz: the engine library gets libFuzzer's coverage
#                         instrumentation (-fsanitize=fuzzer-no-link, see engine/CMakeLists.txt)
#                         and each target links -fsanitize=fuzzer. One build serves both the
#                         fuzz targets and the sanitized engine tests (preset "asan").
option(MESWITCH_SANITIZE "Build with AddressSanitizer and UBSan" OFF)
option(MESWITCH_FUZZ "Build the libFuzzer targets in tests/fuzz (clang; implies MESWITCH_SANITIZE)" OFF)

if(MESWITCH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR
      "MESWITCH_FUZZ=ON needs clang (libFuzzer), but the C++ compiler is "
      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}. Configure with "
      "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ (the 'asan' preset does), after "
      "installing clang and libfuzzer-14-dev (packaging/install-deps.sh).")
  endif()
  if(NOT MESWITCH_BUILD_TESTS)
    message(FATAL_ERROR "MESWITCH_FUZZ=ON needs MESWITCH_BUILD_TESTS=ON (the targets live in tests/fuzz)")
  endif()
  set(MESWITCH_SANITIZE ON)
endif()

if(MESWITCH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
    # GCC (and clang from 16 on) define __SANITIZE_ADDRESS__ under -fsanitize=address; code
    # that sizes thread stacks for ASan's larger frames tests it (test_chat_template_limits).
    add_compile_definitions(__SANITIZE_ADDRESS__=1)
  endif()
  message(STATUS "ME-Switch: AddressSanitizer + UBSan build")
  if(MESWITCH_FUZZ)
    message(STATUS "ME-Switch: libFuzzer targets in tests/fuzz (scripts/fuzz.sh runs them)")
  endif()
endif()
