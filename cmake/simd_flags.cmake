# Per-ISA compile flags: every file under src/kernels/<isa>/ is compiled for that ISA only, so
# the rest of the library stays portable and runtime dispatch (src/kernels/dispatch.cpp) picks.
file(GLOB_RECURSE LMLAB_AVX2_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/avx2/*.cpp)
file(GLOB_RECURSE LMLAB_AVX512_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/avx512/*.cpp)
set_source_files_properties(${LMLAB_AVX2_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx2;-mfma;-mpopcnt;-mf16c" SKIP_PRECOMPILE_HEADERS ON)
set_source_files_properties(${LMLAB_AVX512_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512vpopcntdq;-mfma;-mpopcnt"
  SKIP_PRECOMPILE_HEADERS ON)
