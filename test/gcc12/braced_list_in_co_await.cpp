// SPDX-License-Identifier: Apache-2.0
// GCC 12 refuses a braced list of string literals as an argument inside a co_await
// ("array used as initializer", GCC PR 103871): test/gcc12/check_braced_list.cmake compiles
// this file and expects exactly that on GCC 12, and success on any other compiler. No library
// entry point can avoid it: the list is the caller's. README, "GCC 12".
#include <coroutine>
#include <exception>
#include <string>
#include <utility>
#include <vector>
struct task {
    struct promise_type {
        task get_return_object() { return {}; }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
    bool await_ready() { return true; }
    void await_suspend(std::coroutine_handle<>) {}
    void await_resume() {}
};
task take(std::vector<std::string> words) {
    (void)words;
    co_return;
}
task caller() {
    co_await take({"a braced list", "of string literals"});
}
int main() {
    caller();
}
