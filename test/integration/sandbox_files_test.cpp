// SPDX-License-Identifier: Apache-2.0
// File transfers end to end against the emulator: byte-exact binary round trips of any size,
// awkward names, and the errors for missing files and directories.
#include "integration/sandbox_fixture.hpp"

#include "core/crypto.hpp"
#include "core/shell_wrappers.hpp"

#include <random>
#include <string>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 generator(seed);
    std::uniform_int_distribution<int> byte(0, 255);
    std::string bytes(size, '\0');
    for (auto& c : bytes)
        c = static_cast<char>(byte(generator));
    return bytes;
}

}  // namespace

TEST_CASE("sandbox files: a 1 MiB random binary file round trips byte-exact", "[files]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "files-1mib");
            const auto content = random_bytes(1024 * 1024, 42);
            const auto expected_sha = detail::sha256_hex(content);
            auto written = co_await sandbox.write_file_ws("/tmp/random.bin", content);
            require_ok(written);
            CHECK(written->path == "/tmp/random.bin");
            CHECK(written->size == content.size());
            CHECK(written->sha256 == expected_sha);
            CHECK_FALSE(written->request_id.empty());
            // The sandbox's own view of the file.
            auto check = co_await sandbox.bash(
                "stat -c %s /tmp/random.bin; sha256sum "
                "</tmp/random.bin | cut -d' ' -f1");
            require_ok(check);
            CHECK(check->stdout_text ==
                  std::to_string(content.size()) + "\n" + expected_sha + "\n");
            auto read = co_await sandbox.read_file("/tmp/random.bin");
            require_ok(read);
            CHECK(read->content.size() == content.size());
            CHECK(read->content == content);
            CHECK(read->sha256 == expected_sha);
            CHECK(read->path == "/tmp/random.bin");
            // Overwriting replaces the whole file (no leftovers of the longer one).
            const auto shorter = random_bytes(1000, 7);
            auto rewritten = co_await sandbox.write_file_ws("/tmp/random.bin", shorter);
            require_ok(rewritten);
            auto reread = co_await fx.client->read_file(sandbox.id(), "/tmp/random.bin");
            require_ok(reread);
            CHECK(reread->content == shorter);
        },
        seconds(90));
}

TEST_CASE("sandbox files: an empty file and a name with unicode, spaces and quotes", "[files]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "files-names");
        auto empty = co_await sandbox.write_file_ws("/tmp/empty.bin", "");
        require_ok(empty);
        CHECK(empty->size == 0);
        CHECK(empty->sha256 == detail::sha256_hex(""));
        auto size = co_await sandbox.bash("stat -c %s /tmp/empty.bin");
        require_ok(size);
        CHECK(size->stdout_text == "0\n");
        auto read_empty = co_await sandbox.read_file("/tmp/empty.bin");
        require_ok(read_empty);
        CHECK(read_empty->content.empty());

        const std::string dir = "/tmp/dïr 日本 it's";
        const std::string path = dir + "/f \"q\" $(touch pwned) `id` 'x'.txt";
        auto made = co_await sandbox.bash("mkdir -p " + detail::shell_quote(dir));
        require_ok(made);
        const std::string text = "héllo\nno newline added\0 and a NUL";
        const std::string content(text.data(), text.size());
        auto written = co_await sandbox.write_file_ws(path, content);
        require_ok(written);
        auto listed = co_await sandbox.bash("ls " + detail::shell_quote(dir) +
                                            "; ls /tmp/pwned 2>/dev/null | wc -l");
        require_ok(listed);
        CHECK(listed->stdout_text == "f \"q\" $(touch pwned) `id` 'x'.txt\n0\n");
        auto read = co_await sandbox.read_file(path);
        require_ok(read);
        CHECK(read->content == content);
        auto bytes = co_await sandbox.bash("stat -c %s " + detail::shell_quote(path));
        require_ok(bytes);
        CHECK(bytes->stdout_text == std::to_string(content.size()) + "\n");
    });
}

TEST_CASE("sandbox files: missing files and directories are not_found", "[files]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "files-missing");
        auto missing = co_await sandbox.read_file("/tmp/no-such-file");
        REQUIRE_FALSE(missing.ok());
        CHECK(missing.error().kind == ErrorKind::not_found);
        CHECK_FALSE(missing.error().request_id.empty());
        CHECK(missing.error().dispatch == Dispatch::accepted);
        auto no_dir = co_await sandbox.write_file_ws("/tmp/no/such/dir/f.txt", "x");
        REQUIRE_FALSE(no_dir.ok());
        CHECK(no_dir.error().kind == ErrorKind::not_found);
        auto a_dir = co_await sandbox.read_file("/tmp");
        REQUIRE_FALSE(a_dir.ok());
        CHECK(a_dir.error().kind == ErrorKind::invalid_argument);
        auto no_path = co_await sandbox.write_file_ws("", "x");
        REQUIRE_FALSE(no_path.ok());
        CHECK(no_path.error().kind == ErrorKind::invalid_argument);
        auto no_sandbox = co_await fx.client->read_file("eci-doesnotexist", "/tmp/x");
        REQUIRE_FALSE(no_sandbox.ok());
        CHECK(no_sandbox.error().kind == ErrorKind::not_found);
    });
}
