// SPDX-License-Identifier: Apache-2.0
// The tree copy scripts run with the real local sh, tar and coreutils, with only the exec
// transport replaced: the upload script gets its manifest and tar stream on stdin, the
// download script's stdout is parsed as the library would.
#include "core/tree_copy.hpp"
#include "core/crypto.hpp"
#include "core/tar_stream.hpp"
#include "support/local_shell.hpp"
#include "support/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {

using namespace eci::detail;
using eci::TransferredEntry;
using eci::test::run_local;
namespace fs = std::filesystem;
using eci::test::ScratchDir;
using eci::test::slurp;
using Kind = TransferredEntry::Kind;

struct Planned {
    std::vector<TransferredEntry> entries;
    std::vector<std::string> data;  // per entry (files)
};

Planned sample_tree() {
    Planned tree;
    auto add = [&](Kind kind, std::string path, std::uint32_t mode, std::string data = {},
                   std::string link = {}) {
        TransferredEntry entry;
        entry.kind = kind;
        entry.path = std::move(path);
        entry.mode = mode;
        entry.size = data.size();
        entry.sha256 = kind == Kind::file ? sha256_hex(data) : "";
        entry.link_target = std::move(link);
        tree.entries.push_back(entry);
        tree.data.push_back(std::move(data));
    };
    add(Kind::directory, "", 0755);
    add(Kind::file, "bin", 0755, std::string("\0\x01\xff binary\n", 11));
    add(Kind::directory, "sub dir", 0750);
    add(Kind::file, "sub dir/secret", 0600, "s3cret");
    add(Kind::symlink, "link", 0777, {}, "sub dir/secret");
    add(Kind::directory, "empty", 0700);
    return tree;
}

std::string stdin_of(const Planned& tree, std::string& manifest) {
    manifest.clear();
    std::string tar;
    for (std::size_t i = 0; i < tree.entries.size(); ++i) {
        const auto& entry = tree.entries[i];
        manifest += upload_manifest_line(entry);
        TarEntry member;
        member.name = upload_member_name(entry.path);
        member.type = entry.kind == Kind::directory ? TarEntryType::directory
                      : entry.kind == Kind::symlink ? TarEntryType::symlink
                                                    : TarEntryType::file;
        member.mode = entry.kind == Kind::directory ? 0700 : entry.mode;
        member.size = tree.data[i].size();
        member.link_target = entry.link_target;
        auto header = tar_header(member);
        REQUIRE(header.ok());
        tar += *header + tree.data[i];
        tar.append(tar_padding(tree.data[i].size()), '\0');
    }
    tar += tar_end();
    return manifest + tar;
}

fs::perms perms_of(const fs::path& path) {
    return fs::status(path).permissions() & fs::perms::all;
}

}  // namespace

TEST_CASE("tree copy: the upload script places a tree with modes, a symlink and an empty dir",
          "[tree_copy]") {
    ScratchDir scratch("eci-tree");
    auto tree = sample_tree();
    std::string manifest;
    auto input = stdin_of(tree, manifest);
    const auto tar_bytes = input.size() - manifest.size();
    const auto dest = (scratch.dir / "out").string();
    auto script = upload_script(dest, "src", Kind::directory, manifest.size(), tar_bytes, "abc");
    REQUIRE(script.ok());
    eci::test::LocalRunOptions keep_open;
    keep_open.keep_stdin_open = true;  // as the exec stream: the script must stop on its own
    auto run = run_local({"sh", "-c", *script}, input, keep_open);
    INFO(run.out << run.err);
    REQUIRE_FALSE(run.timed_out);
    UploadReplyParser parser;
    auto done = parser.feed(run.out);
    CHECK(done.size() == tree.entries.size());
    REQUIRE(parser.verdict(tree.entries).ok());
    CHECK(parser.destination() == dest);
    CHECK(slurp(scratch.dir / "out/bin") == tree.data[1]);
    CHECK(perms_of(scratch.dir / "out/bin") == static_cast<fs::perms>(0755));
    CHECK(slurp(scratch.dir / "out/sub dir/secret") == "s3cret");
    CHECK(perms_of(scratch.dir / "out/sub dir/secret") == static_cast<fs::perms>(0600));
    CHECK(perms_of(scratch.dir / "out/sub dir") == static_cast<fs::perms>(0750));
    CHECK(fs::read_symlink(scratch.dir / "out/link") == "sub dir/secret");
    CHECK(fs::is_empty(scratch.dir / "out/empty"));
    // The staging directory is gone.
    for (const auto& entry : fs::directory_iterator(scratch.dir))
        CHECK(entry.path().filename() == "out");

    // Into an existing directory: the root lands inside it under its own name.
    run = run_local({"sh", "-c", *script}, input, keep_open);
    UploadReplyParser again;
    again.feed(run.out);
    REQUIRE(again.verdict(tree.entries).ok());
    CHECK(again.destination() == dest + "/src");
    CHECK(slurp(scratch.dir / "out/src/sub dir/secret") == "s3cret");
}

TEST_CASE("tree copy: an upload whose file hash differs stops there, nothing half placed",
          "[tree_copy]") {
    ScratchDir scratch("eci-tree");
    auto tree = sample_tree();
    tree.entries[3].sha256 = sha256_hex("something else");
    std::string manifest;
    auto input = stdin_of(tree, manifest);
    const auto dest = (scratch.dir / "out").string();
    auto script = upload_script(dest, "src", Kind::directory, manifest.size(),
                                input.size() - manifest.size(), "abc");
    REQUIRE(script.ok());
    auto run = run_local({"sh", "-c", *script}, input);
    UploadReplyParser parser;
    auto done = parser.feed(run.out);
    CHECK(done == std::vector<std::size_t>{0, 1, 2});
    auto verdict = parser.verdict(tree.entries);
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().kind == eci::ErrorKind::protocol);
    CHECK(verdict.error().message.find("sub dir/secret") != std::string::npos);
    CHECK(fs::exists(scratch.dir / "out/bin"));
    CHECK_FALSE(fs::exists(scratch.dir / "out/sub dir/secret"));
    for (const auto& entry : fs::directory_iterator(scratch.dir))
        CHECK(entry.path().filename() == "out");  // staging removed

    // A missing parent directory is not_found.
    auto missing = upload_script((scratch.dir / "no/such").string(), "src", Kind::directory,
                                 manifest.size(), input.size() - manifest.size(), "abc");
    run = run_local({"sh", "-c", *missing}, input);
    UploadReplyParser lost;
    lost.feed(run.out);
    auto none = lost.verdict(tree.entries);
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == eci::ErrorKind::not_found);
}

TEST_CASE("tree copy: the download script's listing and tar stream parse and verify",
          "[tree_copy]") {
    ScratchDir scratch("eci-tree");
    fs::create_directories(scratch.dir / "src/-dash/empty");
    std::ofstream(scratch.dir / "src/-dash/f", std::ios::binary) << std::string("\0x\n", 3);
    std::ofstream(scratch.dir / "src/top", std::ios::binary) << "top";
    fs::create_symlink("top", scratch.dir / "src/ln");
    auto script = download_script((scratch.dir / "src").string());
    REQUIRE(script.ok());
    auto run = run_local({"sh", "-c", *script}, "");
    REQUIRE(run.exit_code == 0);

    class Files final : public TarHandler {
      public:
        std::map<std::string, std::string> files;
        std::vector<std::string> names;
        std::string current;
        eci::Result<void> on_entry(const TarEntry& entry) override {
            current = entry.name;
            names.push_back(entry.name);
            if (entry.type == TarEntryType::file)
                files[current];
            return {};
        }
        eci::Result<void> on_data(std::string_view bytes) override {
            files[current].append(bytes);
            return {};
        }
        eci::Result<void> on_entry_end() override { return {}; }
    } handler;
    DownloadStreamParser parser;
    // In pieces, as frames arrive.
    for (std::size_t at = 0; at < run.out.size(); at += 333)
        REQUIRE(parser.feed(std::string_view(run.out).substr(at, 333), handler).ok());
    REQUIRE(parser.verdict().ok());
    REQUIRE(handler.files.size() == 2);
    for (const auto& [name, data] : handler.files) {
        const auto* sha = parser.sha256_of(name);
        REQUIRE(sha != nullptr);
        CHECK(*sha == sha256_hex(data));
    }
    CHECK(std::find(handler.names.begin(), handler.names.end(), "./src/-dash/empty") !=
          handler.names.end());

    auto missing = download_script((scratch.dir / "nothing").string());
    run = run_local({"sh", "-c", *missing}, "");
    DownloadStreamParser lost;
    REQUIRE(lost.feed(run.out, handler).ok());
    auto verdict = lost.verdict();
    REQUIRE_FALSE(verdict.ok());
    CHECK(verdict.error().kind == eci::ErrorKind::not_found);

    // A cut stream is never a success.
    DownloadStreamParser cut;
    REQUIRE(cut.feed(std::string_view(run.out).substr(0, 0), handler).ok());
    CHECK_FALSE(cut.verdict().ok());
}

TEST_CASE("tree copy: sandbox paths are split and checked", "[tree_copy]") {
    auto split = split_remote_path("/workspace/dir/");
    REQUIRE(split.ok());
    CHECK(split->parent == "/workspace");
    CHECK(split->base == "dir");
    CHECK(split_remote_path("/top")->parent == "/");
    CHECK(split_remote_path("rel")->parent == ".");
    for (const char* bad : {"", "/", "/a/..", "/a/."}) {
        INFO(bad);
        auto refused = split_remote_path(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == eci::ErrorKind::invalid_argument);
    }
}
