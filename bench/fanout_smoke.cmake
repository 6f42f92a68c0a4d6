# Runs eci-bench-fanout on a tiny fan-out, with one ShellSession per sandbox (the default) and
# with one exec per command (--no-session), and checks its JSON: every lifecycle completed
# and the counters are there. Invoked by ctest ("bench: fanout smoke") with -DECI_BENCH=path.
function(check_fanout mode min_calls ws_min ws_max)
    execute_process(COMMAND ${ECI_BENCH} --sandboxes 3 --commands 2 ${ARGN} --json
                    OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 100)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "eci-bench-fanout (${mode}) exited with ${rc}\n${out}\n${err}")
    endif()
    string(JSON failed GET "${out}" failed)
    string(JSON sandboxes GET "${out}" sandboxes)
    string(JSON bash_calls GET "${out}" latency_ms bash count)
    string(JSON total GET "${out}" api_calls total)
    string(JSON ws GET "${out}" ws_connections)
    string(JSON resumed GET "${out}" ws_tls_resumptions)
    string(JSON start_waits GET "${out}" exec_start_waits)
    if(NOT failed EQUAL 0 OR NOT sandboxes EQUAL 3 OR NOT bash_calls EQUAL 6)
        message(FATAL_ERROR "unexpected fan-out result (${mode}): ${out}")
    endif()
    if(total LESS min_calls OR ws LESS ws_min OR ws GREATER ws_max OR resumed GREATER ws)
        message(FATAL_ERROR
                "counters look wrong (${mode}: api calls ${total}, WebSockets ${ws}): ${out}")
    endif()
    message(STATUS "fan-out smoke (${mode}): ${out}")
endfunction()

# One session per lifecycle: create, describe, one exec, delete; one WebSocket each.
check_fanout("session" 12 3 3)
# One exec per command: 2 bash + tmux start, poll(s), kill: at least 5 WebSockets each.
check_fanout("no session" 15 9 1000 --no-session)
