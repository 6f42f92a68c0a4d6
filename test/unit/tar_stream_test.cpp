// SPDX-License-Identifier: Apache-2.0
// The sans-io tar writer and reader: round trips in any chunking, long names through pax,
// interop with the real GNU tar both ways, and refusal of corrupt headers.
#include "core/tar_stream.hpp"
#include "core/crypto.hpp"
#include "support/local_shell.hpp"
#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace {

using namespace eci::detail;
using eci::test::run_local;
namespace fs = std::filesystem;
using eci::test::ScratchDir;
using eci::test::slurp;

struct Collected {
    TarEntry entry;
    std::string data;
};

class Collector final : public TarHandler {
  public:
    std::vector<Collected> members;
    int open = 0;
    eci::Result<void> on_entry(const TarEntry& entry) override {
        members.push_back({entry, {}});
        ++open;
        return {};
    }
    eci::Result<void> on_data(std::string_view bytes) override {
        members.back().data.append(bytes);
        return {};
    }
    eci::Result<void> on_entry_end() override {
        --open;
        return {};
    }
};

std::string archive_of(const std::vector<std::pair<TarEntry, std::string>>& members) {
    std::string out;
    for (const auto& [entry, data] : members) {
        auto header = tar_header(entry);
        REQUIRE(header.ok());
        out += *header;
        out += data;
        out.append(tar_padding(data.size()), '\0');
    }
    return out + tar_end();
}

std::vector<std::pair<TarEntry, std::string>> sample_members() {
    std::mt19937 gen(7);
    std::string binary(70000, '\0');
    for (auto& c : binary)
        c = static_cast<char>(gen() & 0xff);
    const std::string long_name = "r/" + std::string(150, 'n') + "/file with spaces";
    return {
        {TarEntry{TarEntryType::directory, "r", 0755, 0, "", 1700000000}, ""},
        {TarEntry{TarEntryType::file, "r/bin.dat", 0600, binary.size(), "", 1}, binary},
        {TarEntry{TarEntryType::file, "r/empty", 0644, 0, "", 1}, ""},
        {TarEntry{TarEntryType::symlink, "r/link", 0777, 0, "bin.dat", 1}, ""},
        {TarEntry{TarEntryType::symlink, "r/longlink", 0777, 0, std::string(200, 't'), 1}, ""},
        {TarEntry{TarEntryType::file, long_name, 0755, 5, "", 1}, "hello"},
        {TarEntry{TarEntryType::directory, "r/emptydir", 0700, 0, "", 1}, ""},
    };
}

void check_members(const Collector& got,
                   const std::vector<std::pair<TarEntry, std::string>>& expected) {
    REQUIRE(got.members.size() == expected.size());
    CHECK(got.open == 0);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("member " << i);
        CHECK(got.members[i].entry.type == expected[i].first.type);
        CHECK(got.members[i].entry.name == expected[i].first.name);
        CHECK(got.members[i].entry.mode == expected[i].first.mode);
        CHECK(got.members[i].entry.link_target == expected[i].first.link_target);
        CHECK(got.members[i].data == expected[i].second);
    }
}

}  // namespace

TEST_CASE("tar stream: members round trip whole, byte by byte and in odd chunks", "[tar]") {
    const auto members = sample_members();
    const auto archive = archive_of(members);
    for (std::size_t chunk :
         {archive.size(), std::size_t{1}, std::size_t{511}, std::size_t{7919}}) {
        INFO("chunk " << chunk);
        TarReader reader;
        Collector got;
        std::size_t used = 0;
        for (std::size_t at = 0; at < archive.size() && !reader.ended(); at += chunk) {
            auto fed = reader.feed(std::string_view(archive).substr(at, chunk), got);
            REQUIRE(fed.ok());
            used += *fed;
        }
        CHECK(reader.ended());
        // Consumption stops at the first end block: what follows belongs to the caller.
        CHECK(used == archive.size() - 512);
        check_members(got, members);
    }
}

TEST_CASE("tar stream: GNU tar extracts what the writer wrote, modes and links kept", "[tar]") {
    ScratchDir scratch("eci-tar");
    const auto members = sample_members();
    auto extracted =
        run_local({"tar", "-x", "-f", "-", "-C", scratch.dir.string()}, archive_of(members));
    INFO(extracted.err);
    REQUIRE(extracted.exit_code == 0);
    CHECK(slurp(scratch.dir / "r/bin.dat") == members[1].second);
    CHECK((fs::status(scratch.dir / "r/bin.dat").permissions() & fs::perms::all) ==
          static_cast<fs::perms>(0600));
    CHECK(fs::is_symlink(scratch.dir / "r/link"));
    CHECK(fs::read_symlink(scratch.dir / "r/link") == "bin.dat");
    CHECK(fs::read_symlink(scratch.dir / "r/longlink").string() == std::string(200, 't'));
    CHECK(slurp(scratch.dir / members[5].first.name) == "hello");
    CHECK(fs::is_directory(scratch.dir / "r/emptydir"));
    CHECK(fs::is_empty(scratch.dir / "r/emptydir"));
}

TEST_CASE("tar stream: the reader parses GNU tar's own archives, long names included", "[tar]") {
    ScratchDir scratch("eci-tar");
    const auto deep = scratch.dir / "t" / std::string(120, 'd');
    fs::create_directories(deep);
    { std::ofstream(deep / "f.txt", std::ios::binary) << "payload"; }
    fs::create_symlink("f.txt", deep / "l");
    auto archived = run_local({"tar", "-c", "-f", "-", "-C", scratch.dir.string(), "t"}, "");
    REQUIRE(archived.exit_code == 0);
    TarReader reader;
    Collector got;
    auto fed = reader.feed(archived.out, got);
    REQUIRE(fed.ok());
    CHECK(reader.ended());
    bool saw_file = false;
    bool saw_link = false;
    for (const auto& member : got.members) {
        if (member.entry.name == "t/" + std::string(120, 'd') + "/f.txt") {
            saw_file = true;
            CHECK(member.data == "payload");
        }
        if (member.entry.type == TarEntryType::symlink) {
            saw_link = true;
            CHECK(member.entry.link_target == "f.txt");
        }
    }
    CHECK(saw_file);
    CHECK(saw_link);
}

TEST_CASE("tar stream: a corrupt header is a protocol error, never a member", "[tar]") {
    auto archive = archive_of(sample_members());
    archive[10] = static_cast<char>(archive[10] ^ 0x40);  // inside the first name
    TarReader reader;
    Collector got;
    auto fed = reader.feed(archive, got);
    REQUIRE_FALSE(fed.ok());
    CHECK(fed.error().kind == eci::ErrorKind::protocol);
    CHECK(got.members.empty());

    CHECK_FALSE(tar_header(TarEntry{TarEntryType::file, "", 0644, 0, "", 0}).ok());
    CHECK_FALSE(
        tar_header(TarEntry{TarEntryType::file, std::string("a\0b", 3), 0644, 0, "", 0}).ok());
}

TEST_CASE("tar stream: incremental SHA-256 equals the one-shot hash", "[tar]") {
    Sha256 hasher;
    hasher.update("hello ");
    hasher.update("");
    hasher.update("world");
    CHECK(hasher.finish_hex() == sha256_hex("hello world"));
    CHECK(hasher.finish_hex() == sha256_hex(""));
}
