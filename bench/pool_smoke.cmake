# Runs eci-bench-pool on a small pool and checks its JSON: every acquire succeeded and nothing
# was left behind. Invoked by ctest ("bench: pool smoke") with -DECI_BENCH=path.
execute_process(COMMAND ${ECI_BENCH} --min-idle 2 --acquires 50 --json
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 100)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "eci-bench-pool exited with ${rc}\n${out}\n${err}")
endif()
string(JSON acquires GET "${out}" acquires)
string(JSON failed GET "${out}" failed)
string(JSON leaked GET "${out}" leaked)
string(JSON p50 GET "${out}" acquire_p50_ms)
string(JSON p99 GET "${out}" acquire_p99_ms)
if(NOT acquires EQUAL 50 OR NOT failed EQUAL 0 OR NOT leaked EQUAL 0)
    message(FATAL_ERROR "unexpected pool bench result: ${out}")
endif()
message(STATUS "pool smoke: p50 ${p50} ms, p99 ${p99} ms: ${out}")
