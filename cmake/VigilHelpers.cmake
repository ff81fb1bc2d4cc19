# Build conventions shared by every module: warnings, sanitizers, one library
# per module with a vigil::<module> alias, and vigil_add_test() for GoogleTest suites.

add_library(vigil_build_flags INTERFACE)
target_compile_options(vigil_build_flags INTERFACE -Wall -Wextra)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 reports false -Wrestrict positives inside std::string at -O2 (GCC bug 105329).
  target_compile_options(vigil_build_flags INTERFACE -Wno-restrict)
endif()
if(VIGIL_WERROR)
  target_compile_options(vigil_build_flags INTERFACE -Werror)
endif()
if(VIGIL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(VIGIL_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
endif()

# vigil_add_library(<module> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates target vigil_<module> with alias vigil::<module>. Headers are included
# by their path from the repository root ("daemon/util/result.h").
function(vigil_add_library name)
  cmake_parse_arguments(A "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(vigil_${name} STATIC ${A_SOURCES})
  add_library(vigil::${name} ALIAS vigil_${name})
  target_include_directories(vigil_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(vigil_${name} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS} vigil_build_flags)
endfunction()

# vigil_add_test(<name> LABEL unit|integration|fault SOURCES ... DEPS ... [TIMEOUT s])
# One GoogleTest executable; each TEST() becomes its own CTest test carrying LABEL.
function(vigil_add_test name)
  cmake_parse_arguments(A "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT A_LABEL)
    set(A_LABEL unit)
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 120)
  endif()
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gmock GTest::gtest_main vigil_build_flags)
  target_compile_definitions(${name} PRIVATE
    VIGIL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    VIGIL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS ${A_LABEL} TIMEOUT ${A_TIMEOUT})
endfunction()

# vigil_add_fuzzer(<name> SOURCES ... DEPS ...): a libFuzzer target, built only
# with -DVIGIL_FUZZ=ON and clang (CC=clang CXX=clang++).
function(vigil_add_fuzzer name)
  if(NOT VIGIL_FUZZ)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${A_DEPS})
endfunction()
