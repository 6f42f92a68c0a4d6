# Runs eci-bench-fanout on a tiny fan-out and checks its JSON: every lifecycle completed and
# the counters are there. Invoked by ctest ("bench: fanout smoke") with -DECI_BENCH=path.
execute_process(COMMAND ${ECI_BENCH} --sandboxes 3 --commands 2 --json
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 100)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "eci-bench-fanout exited with ${rc}\n${out}\n${err}")
endif()
string(JSON failed GET "${out}" failed)
string(JSON sandboxes GET "${out}" sandboxes)
string(JSON bash_calls GET "${out}" latency_ms bash count)
string(JSON total GET "${out}" api_calls total)
string(JSON ws GET "${out}" ws_connections)
if(NOT failed EQUAL 0 OR NOT sandboxes EQUAL 3 OR NOT bash_calls EQUAL 6)
    message(FATAL_ERROR "unexpected fan-out result: ${out}")
endif()
if(total LESS 15 OR ws LESS 9)
    message(FATAL_ERROR "counters look wrong (api calls ${total}, WebSockets ${ws}): ${out}")
endif()
message(STATUS "fan-out smoke: ${out}")
