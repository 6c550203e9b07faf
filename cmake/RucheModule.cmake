# ruche_module(NAME <name> SOURCES <files...> DEPS <targets...>)
#
# One folder = one module = one static library `ruche_<name>`. Beside the library it creates,
# from the files found in the module's folder:
#   *_test.cpp   -> one GoogleTest binary `ruche_<name>_test`, registered with ctest
#   *_bench.cpp  -> one Google Benchmark binary `ruche_<name>_bench` (RUCHE_BUILD_BENCH=ON)
#   *_fuzz.cpp   -> one libFuzzer binary per file (RUCHE_FUZZ=ON, clang); without RUCHE_FUZZ each
#                   fuzz target is still built against a small driver that replays its checked-in
#                   corpus (<file>_corpus/), so every corpus entry runs in `make test`. With both
#                   RUCHE_FUZZ and tests (the asan preset), ctest replays the corpus through the
#                   libFuzzer binary itself (-runs=0).
function(ruche_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;DEPS;TEST_DEPS" ${ARGN})
  set(lib ruche_${M_NAME})
  add_library(${lib} STATIC ${M_SOURCES})
  target_include_directories(${lib} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${lib} PUBLIC ${M_DEPS})

  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(RUCHE_BUILD_TESTS AND tests)
    add_executable(${lib}_test ${tests})
    target_link_libraries(${lib}_test PRIVATE ${lib} ${M_TEST_DEPS} GTest::gtest GTest::gmock
                          GTest::gtest_main)
    add_test(NAME ${lib}_test COMMAND ${lib}_test --gtest_brief=1)
  endif()

  file(GLOB benches CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_bench.cpp)
  if(RUCHE_BUILD_BENCH AND benches)
    add_executable(${lib}_bench ${benches})
    target_link_libraries(${lib}_bench PRIVATE ${lib} benchmark::benchmark benchmark::benchmark_main)
  endif()

  file(GLOB fuzzers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cpp)
  foreach(fz ${fuzzers})
    get_filename_component(fz_name ${fz} NAME_WE)
    set(exe ruche_${fz_name})
    if(RUCHE_FUZZ)
      add_executable(${exe} ${fz})
      target_compile_options(${exe} PRIVATE -fsanitize=fuzzer)
      target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
      target_link_libraries(${exe} PRIVATE ${lib})
      if(RUCHE_BUILD_TESTS)
        add_test(NAME ${exe}_corpus COMMAND ${exe} -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/${fz_name}_corpus)
      endif()
    elseif(RUCHE_BUILD_TESTS)
      add_executable(${exe}_replay ${fz} ${PROJECT_SOURCE_DIR}/cmake/fuzz_replay_main.cpp)
      target_link_libraries(${exe}_replay PRIVATE ${lib})
      add_test(NAME ${exe}_corpus COMMAND ${exe}_replay ${CMAKE_CURRENT_SOURCE_DIR}/${fz_name}_corpus)
    endif()
  endforeach()
endfunction()
