# Test registration by convention, so adding a test never edits a shared file:
#   tests/unit/test_<name>.c          cmocka executable      -> ctest "unit.<name>"
#   tests/integration/<name>.sh|.py   against the emulator   -> ctest "integration.<name>"
#   tests/ui/<name>.sh                tmux-driven console    -> ctest "ui.<name>"
# Scripts get LAMBDECK (the binary), LAMBDECK_SRC, LAMBDECK_BUILD in the environment and
# run with /usr/bin/python3 (Debian's, with botocore) for .py files.
# LAMBDECK_TEST_SCALE multiplies the tests' wait limits (tests/lib/scale.sh, cli.scaled): 2 in
# a sanitizer build, else 1; `LAMBDECK_TEST_SCALE=N cmake -B ...` sets it for a slow machine.
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
if(DEFINED ENV{LAMBDECK_TEST_SCALE})
  set(LK_TEST_SCALE $ENV{LAMBDECK_TEST_SCALE})
elseif(LAMBDECK_SANITIZE)
  set(LK_TEST_SCALE 2)
else()
  set(LK_TEST_SCALE 1)
endif()
set(TEST_ENV "LAMBDECK=$<TARGET_FILE:lambdeck>;LAMBDECK_SRC=${CMAKE_SOURCE_DIR};LAMBDECK_BUILD=${CMAKE_BINARY_DIR};LAMBDECK_TEST_SCALE=${LK_TEST_SCALE};LC_ALL=C.UTF-8;AWS_EC2_METADATA_DISABLED=true;PATH=/usr/bin:/bin:/usr/sbin:/sbin")

file(GLOB UNIT_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${UNIT_TESTS})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" short ${name})
  add_executable(${name} ${src})
  target_link_libraries(${name} PRIVATE lktui lkbackend PkgConfig::CMOCKA)
  add_test(NAME unit.${short} COMMAND ${name})
  set_tests_properties(unit.${short} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 120)
endforeach()

foreach(kind integration ui)
  file(GLOB scripts CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${kind}/*.sh ${CMAKE_SOURCE_DIR}/tests/${kind}/*.py)
  foreach(script ${scripts})
    get_filename_component(name ${script} NAME_WE)
    get_filename_component(ext ${script} LAST_EXT)
    if(ext STREQUAL ".py")
      add_test(NAME ${kind}.${name} COMMAND /usr/bin/python3 ${script})
    else()
      add_test(NAME ${kind}.${name} COMMAND bash ${script})
    endif()
    set_tests_properties(${kind}.${name} PROPERTIES ENVIRONMENT "${TEST_ENV}" TIMEOUT 300 LABELS ${kind})
    if(kind STREQUAL "ui")
      # UI tests share one tmux server socket per test; run them one at a time.
      set_tests_properties(${kind}.${name} PROPERTIES RESOURCE_LOCK tmux)
    endif()
  endforeach()
endforeach()

# Extra test targets (fuzzers, helpers) a module wants live in tests/<dir>/CMakeLists.txt.
file(GLOB EXTRA_TEST_DIRS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/*/CMakeLists.txt)
foreach(f ${EXTRA_TEST_DIRS})
  get_filename_component(d ${f} DIRECTORY)
  get_filename_component(n ${d} NAME)
  add_subdirectory(${d} ${CMAKE_BINARY_DIR}/tests-${n})
endforeach()
