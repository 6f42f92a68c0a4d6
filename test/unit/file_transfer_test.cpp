// SPDX-License-Identifier: Apache-2.0
// The file transfer scripts run with the real local sh and coreutils, with only the exec
// transport replaced: stdin bytes go to the child's stdin, stdout is parsed.
#include "core/file_transfer.hpp"
#include "core/crypto.hpp"
#include "core/tmux_commands.hpp"
#include "support/local_shell.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

using namespace eci::detail;
using eci::test::LocalRunOptions;
using eci::test::run_local;
namespace fs = std::filesystem;

struct ScratchDir {
    fs::path dir;
    ScratchDir() {
        std::string tmpl = (fs::temp_directory_path() / "eci-files-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
    std::string slurp(const fs::path& path) const {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    // Leftover temporary files of interrupted or refused writes.
    int temporaries() const {
        int count = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            if (entry.path().filename().string().find(".eci-tmp-") != std::string::npos)
                ++count;
        }
        return count;
    }
};

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string bytes(n, '\0');
    for (auto& b : bytes)
        b = static_cast<char>(gen() & 0xff);
    return bytes;
}

// Writes `sent` where the plan was made for `planned` (they differ to simulate tampering).
eci::Result<void> write_file(const std::string& path, const std::string& planned,
                             const std::string& sent, bool keep_stdin_open = true) {
    auto plan = plan_file_write(path, planned);
    REQUIRE(plan.ok());
    std::string stdin_data;
    for (auto chunk : split_stdin_chunks(sent))
        stdin_data.append(chunk);
    LocalRunOptions options;
    options.keep_stdin_open = keep_stdin_open;
    auto run = run_local(shell_argv(plan->script), stdin_data, options);
    REQUIRE_FALSE(run.timed_out);
    return parse_file_write_reply(run.out, *plan);
}

eci::Result<std::string> read_file(const std::string& path, std::string* raw = nullptr) {
    auto script = file_read_script(path);
    REQUIRE(script.ok());
    auto run = run_local(shell_argv(*script), {});
    REQUIRE_FALSE(run.timed_out);
    if (raw)
        *raw = run.out;
    return parse_file_read_reply(run.out);
}

}  // namespace

TEST_CASE("files: 1 MiB of random bytes round-trip byte-exact under hostile names", "[files]") {
    ScratchDir scratch;
    auto data = random_bytes(1024 * 1024, 42);
    for (std::string name : {"plain.bin", "with space.bin", "'; rm -rf * #", "$(touch pwned)",
                             "`touch pwned2`", "日本語 ünïcödé.bin", "-n", "a\nb"}) {
        auto path = (scratch.dir / name).string();
        // stdin stays open: the script must stop after exactly the announced bytes.
        INFO("file name: " << name);
        auto written = write_file(path, data, data);
        INFO((written.ok() ? std::string("ok") : written.error().to_string()));
        REQUIRE(written.ok());
        CHECK(scratch.slurp(path) == data);
        auto back = read_file(path);
        REQUIRE(back.ok());
        CHECK(back->size() == data.size());
        CHECK(*back == data);
    }
    CHECK_FALSE(fs::exists(scratch.dir / "pwned"));
    CHECK_FALSE(fs::exists("pwned"));
    CHECK(scratch.temporaries() == 0);
}

TEST_CASE("files: writes are exact: no added newline, empty files, overwrite", "[files]") {
    ScratchDir scratch;
    auto path = (scratch.dir / "f.txt").string();
    REQUIRE(write_file(path, "no newline", "no newline", false).ok());
    CHECK(scratch.slurp(path) == "no newline");
    REQUIRE(write_file(path, "", "").ok());
    CHECK(fs::exists(path));
    CHECK(fs::file_size(path) == 0);
    CHECK(read_file(path).value().empty());
    std::string nuls("\0\n\r\0\xff", 5);
    REQUIRE(write_file(path, nuls, nuls).ok());
    CHECK(scratch.slurp(path) == nuls);
    CHECK(read_file(path).value() == nuls);
}

TEST_CASE("files: tampered or short data is refused and never replaces the file", "[files]") {
    ScratchDir scratch;
    auto path = (scratch.dir / "target.bin").string();
    auto good = random_bytes(100000, 7);
    REQUIRE(write_file(path, good, good).ok());

    auto tampered = good;
    tampered[5000] = static_cast<char>(tampered[5000] ^ 0x01);
    auto refused = write_file(path, random_bytes(100000, 8), tampered);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == eci::ErrorKind::protocol);
    CHECK(refused.error().message.find("not written") != std::string::npos);
    CHECK(scratch.slurp(path) == good);

    // Fewer bytes than announced, then stdin closes.
    auto shorter = write_file(path, good, good.substr(0, 1000), false);
    REQUIRE_FALSE(shorter.ok());
    CHECK(scratch.slurp(path) == good);
    CHECK(scratch.temporaries() == 0);

    // A read reply whose bytes were altered in transit fails its check.
    std::string raw;
    REQUIRE(read_file(path, &raw).ok());
    auto body = raw.find('\n') + 10;
    raw[body] = raw[body] == 'A' ? 'B' : 'A';
    auto corrupt = parse_file_read_reply(raw);
    REQUIRE_FALSE(corrupt.ok());
    CHECK(corrupt.error().kind == eci::ErrorKind::protocol);
    // A reply cut short (the end line lost) fails too.
    REQUIRE(read_file(path, &raw).ok());
    auto cut = parse_file_read_reply(raw.substr(0, raw.size() / 2));
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.error().kind == eci::ErrorKind::protocol);
}

TEST_CASE("files: missing files, directories and bad paths are clear errors", "[files]") {
    ScratchDir scratch;
    auto missing = read_file((scratch.dir / "nope").string());
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().kind == eci::ErrorKind::not_found);
    auto directory = read_file(scratch.dir.string());
    REQUIRE_FALSE(directory.ok());
    CHECK(directory.error().kind == eci::ErrorKind::invalid_argument);

    auto no_dir = write_file((scratch.dir / "no" / "such" / "f").string(), "x", "x", false);
    REQUIRE_FALSE(no_dir.ok());
    CHECK(no_dir.error().kind == eci::ErrorKind::not_found);
    auto onto_dir = write_file(scratch.dir.string(), "x", "x", false);
    REQUIRE_FALSE(onto_dir.ok());
    CHECK(onto_dir.error().kind == eci::ErrorKind::service);
    CHECK(scratch.temporaries() == 0);

    CHECK(plan_file_write("", "x").error().kind == eci::ErrorKind::invalid_argument);
    CHECK(file_read_script(std::string("a\0b", 3)).error().kind ==
          eci::ErrorKind::invalid_argument);
    CHECK(parse_file_read_reply("motd only").error().kind == eci::ErrorKind::protocol);
    CHECK(parse_file_write_reply("", plan_file_write("/x", "y").value()).error().kind ==
          eci::ErrorKind::protocol);
}

TEST_CASE("files: stdin is cut into frames of at most 32 KiB, in order", "[files]") {
    auto data = random_bytes(100000, 3);
    auto chunks = split_stdin_chunks(data);
    REQUIRE(chunks.size() == 4);
    std::string joined;
    for (auto chunk : chunks) {
        CHECK(chunk.size() <= file_stdin_chunk_size);
        joined.append(chunk);
    }
    CHECK(joined == data);
    CHECK(chunks.back().size() == 100000 - 3 * 32768);
    CHECK(split_stdin_chunks("").empty());
    CHECK(split_stdin_chunks("abc", 1).size() == 3);
    CHECK(plan_file_write("/x", data).value().expected_sha256 == sha256_hex(data));
}
