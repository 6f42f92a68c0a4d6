// SPDX-License-Identifier: Apache-2.0
// Which call constructs GCC 12 miscompiles inside a co_await, one test per construct (issue 15,
// item 6; the probe behind it tried 39 shapes at -O0/-O1/-O2 under ASan). The README's "GCC 12"
// section states the result; these tests keep it true.
//
// The bug (GCC PRs 99576, 100611, 101367, 101976): an aggregate temporary built with braces in
// the full-expression of a co_await is destroyed twice, in the caller's coroutine frame, so no
// shape of the callee (by value, by reference, a non-coroutine forwarder) avoids it. Each test
// passes such an object to a real Asio coroutine that suspends, and counts constructions and
// destructions of a member that owns no memory (the bad constructs then double-count instead of
// double-freeing). On GCC 12 the unsafe constructs must show the extra destruction (a tripwire:
// when a compiler fixes it, the test says the README can be narrowed); every safe construct
// must balance on every compiler.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <exception>
#include <string>
#include <utility>

namespace asio = boost::asio;

namespace {

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
constexpr bool gcc12 = true;
#else
constexpr bool gcc12 = false;
#endif

struct Counts {
    int made = 0;
    int destroyed = 0;
};
Counts counts;

// Counts its lives; owns no memory, so a double destruction is counted, not a double free.
struct Tracked {
    Tracked() { ++counts.made; }
    Tracked(const Tracked&) { ++counts.made; }
    Tracked(Tracked&&) noexcept { ++counts.made; }
    Tracked& operator=(const Tracked&) = default;
    Tracked& operator=(Tracked&&) noexcept = default;
    ~Tracked() { ++counts.destroyed; }
};

// An aggregate like CreateOptions (designated initializers work on it).
struct Options {
    int cpu = 1;
    Tracked life{};
};

// A class with a constructor: not an aggregate.
class Built {
  public:
    explicit Built(int cpu) : cpu_(cpu) {}
    int cpu() const { return cpu_; }

  private:
    int cpu_;
    Tracked life{};
};

// The library's shape: a coroutine taking its options by value, suspending once.
asio::awaitable<int> take(Options options) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return options.cpu;
}
asio::awaitable<int> take_built(Built built) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return built.cpu();
}
asio::awaitable<int> take_default(Options options = {}) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return options.cpu;
}
// The library's answer to class-type defaults: a non-coroutine overload that forwards.
asio::awaitable<int> take_overload() {
    return take(Options{});
}
asio::awaitable<std::string> take_text(std::string text) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return text;
}
asio::awaitable<bool> also_true() {
    co_return true;
}
Options make_options(int cpu) {
    return Options{.cpu = cpu};
}

// Runs `caller` to completion and reports whether every Tracked made was destroyed once.
template <class Caller>
bool balanced(Caller caller) {
    counts = {};
    asio::io_context io;
    std::exception_ptr failure;
    asio::co_spawn(io, caller(), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure)
        std::rethrow_exception(failure);
    INFO("made " << counts.made << ", destroyed " << counts.destroyed);
    return counts.made == counts.destroyed;
}

// ---- the callers, one construct each (named coroutines: see docs/concepts.md) ----

asio::awaitable<void> designated_temporary() {
    const int cpu = co_await take(Options{.cpu = 2});
    CHECK(cpu == 2);
}
asio::awaitable<void> empty_braces_temporary() {
    const int cpu = co_await take(Options{});
    CHECK(cpu == 1);
}
asio::awaitable<void> class_type_default_argument() {
    const int cpu = co_await take_default();
    CHECK(cpu == 1);
}
asio::awaitable<void> temporary_in_awaitable_operator() {
    using namespace asio::experimental::awaitable_operators;
    auto both = co_await (take(Options{.cpu = 3}) && also_true());
    CHECK(std::get<0>(both) == 3);
}
asio::awaitable<void> named_local_moved() {
    Options options{.cpu = 4};
    const int cpu = co_await take(std::move(options));
    CHECK(cpu == 4);
}
asio::awaitable<void> function_result() {
    const int cpu = co_await take(make_options(5));
    CHECK(cpu == 5);
}
asio::awaitable<void> awaitable_made_in_its_own_statement() {
    auto pending = take(Options{.cpu = 6});
    const int cpu = co_await std::move(pending);
    CHECK(cpu == 6);
}
asio::awaitable<void> overload_instead_of_default() {
    const int cpu = co_await take_overload();
    CHECK(cpu == 1);
}
asio::awaitable<void> non_aggregate_temporary() {
    const int cpu = co_await take_built(Built(7));
    CHECK(cpu == 7);
}
asio::awaitable<void> string_literal_argument() {
    // A literal converted to the by-value std::string parameter (sandbox.bash("...")); longer
    // than the small-string buffer, so a double free would reach the heap (and ASan).
    const auto text = co_await take_text("a command longer than any small-string buffer holds");
    CHECK(text == "a command longer than any small-string buffer holds");
    const auto made = co_await take_text(std::string("another string built in the call, long"));
    CHECK(made == "another string built in the call, long");
}

}  // namespace

TEST_CASE("gcc12: a designated-initializer aggregate temporary in co_await", "[gcc12]") {
    CHECK(balanced(designated_temporary) == !gcc12);
}

TEST_CASE("gcc12: an empty-braces aggregate temporary in co_await", "[gcc12]") {
    CHECK(balanced(empty_braces_temporary) == !gcc12);
}

TEST_CASE("gcc12: a class-type default argument of a coroutine", "[gcc12]") {
    CHECK(balanced(class_type_default_argument) == !gcc12);
}

TEST_CASE("gcc12: an aggregate temporary inside an awaitable operator", "[gcc12]") {
    CHECK(balanced(temporary_in_awaitable_operator) == !gcc12);
}

TEST_CASE("gcc12 safe: a named local moved into the call", "[gcc12]") {
    CHECK(balanced(named_local_moved));
}

TEST_CASE("gcc12 safe: a function's result as the argument", "[gcc12]") {
    CHECK(balanced(function_result));
}

TEST_CASE("gcc12 safe: the awaitable made in its own statement, then awaited", "[gcc12]") {
    CHECK(balanced(awaitable_made_in_its_own_statement));
}

TEST_CASE("gcc12 safe: an overload in place of a default argument", "[gcc12]") {
    CHECK(balanced(overload_instead_of_default));
}

TEST_CASE("gcc12 safe: a temporary of a class with a constructor", "[gcc12]") {
    CHECK(balanced(non_aggregate_temporary));
}

TEST_CASE("gcc12 safe: string literals and std::string temporaries", "[gcc12]") {
    CHECK(balanced(string_literal_argument));
}
