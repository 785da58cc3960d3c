# MESWITCH_CUDA=AUTO|ON|OFF decides whether kernels/ and the CUDA backend are built.
set(MESWITCH_CUDA "AUTO" CACHE STRING "Build the CUDA GPU path: AUTO, ON or OFF")
set_property(CACHE MESWITCH_CUDA PROPERTY STRINGS AUTO ON OFF)
string(TOUPPER "${MESWITCH_CUDA}" _meswitch_cuda)

set(MESWITCH_HAVE_CUDA OFF)
if(NOT _meswitch_cuda STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
    find_program(_meswitch_nvcc nvcc HINTS /usr/local/cuda/bin)
    if(_meswitch_nvcc)
      set(CMAKE_CUDA_COMPILER "${_meswitch_nvcc}" CACHE FILEPATH "CUDA compiler")
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "80;86;89;90" CACHE STRING "CUDA architectures")
    endif()
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 does not know nvcc's C++20 flag; kernels need only C++17
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(MESWITCH_HAVE_CUDA ON)
    # Packaged binaries must start without the CUDA Toolkit: link CUDA::cudart_static (it opens
    # the driver, libcuda.so.1, at run time) and meswitch_cublas, which opens libcublas at the
    # first call, never CUDA::cudart or CUDA::cublas (packaging/check-deb.sh fails when an
    # installed binary needs libcudart, libcublas or libcuda).
    add_library(meswitch_cublas STATIC ${CMAKE_CURRENT_LIST_DIR}/cublas_dlopen.cpp)
    target_include_directories(meswitch_cublas PUBLIC ${CMAKE_CURRENT_LIST_DIR})
    target_link_libraries(meswitch_cublas PUBLIC CUDA::toolkit PRIVATE ${CMAKE_DL_LIBS})
    target_compile_definitions(meswitch_cublas PRIVATE
      MESWITCH_CUBLAS_SOVERSION="${CUDAToolkit_VERSION_MAJOR}"
      MESWITCH_CUBLAS_LIBDIR="${CUDAToolkit_LIBRARY_DIR}")
    set_target_properties(meswitch_cublas PROPERTIES POSITION_INDEPENDENT_CODE ON)
    message(STATUS "ME-Switch: GPU path ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(_meswitch_cuda STREQUAL "ON")
    message(FATAL_ERROR
      "MESWITCH_CUDA=ON but no CUDA compiler was found (nvcc not on PATH nor in /usr/local/cuda/bin).\n"
      "Install the NVIDIA CUDA Toolkit with cuBLAS, or configure with -DMESWITCH_CUDA=OFF for a CPU-only build.")
  else()
    message(STATUS "ME-Switch: no CUDA compiler found, building the CPU path only. "
                   "To get the GPU path install the NVIDIA CUDA Toolkit (with cuBLAS) so that "
                   "/usr/local/cuda/bin/nvcc exists, then reconfigure (-DMESWITCH_CUDA=ON to require it).")
  endif()
else()
  message(STATUS "ME-Switch: MESWITCH_CUDA=OFF, building the CPU path only")
endif()
