// SPDX-License-Identifier: Apache-2.0
// upload / download: a tree copied over one exec (core/tree_copy's scripts, core/tar_stream's
// format). Files stream through in chunks: memory stays bounded by a chunk and a tar header
// whatever the sizes. Every file is checked by SHA-256 at the receiving end before it gets its
// final name; on any failure the error names the entries that were complete.
#include "core/crypto.hpp"
#include "core/redact.hpp"
#include "core/shell_wrappers.hpp"
#include "core/tar_stream.hpp"
#include "core/tree_copy.hpp"
#include "sandbox/exec_runner.hpp"

#include <eci/async_sandbox.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <system_error>

namespace eci {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace detail {
namespace {

// Bytes read from a local file per stdin piece; the WebSocket sends them in 32 KiB frames.
constexpr std::size_t read_chunk_bytes = 256 * 1024;

using Kind = TransferredEntry::Kind;

struct LocalEntry {
    TransferredEntry meta;
    fs::path local;
};

Error local_error(ErrorKind kind, std::string message, const std::error_code& code = {}) {
    if (code)
        message = fmt::format("{}: {}", message, code.message());
    return Error::make(kind, std::move(message));
}

ErrorKind kind_of(const std::error_code& code) {
    return code == std::errc::no_such_file_or_directory ? ErrorKind::not_found
                                                        : ErrorKind::invalid_argument;
}

std::uint32_t mode_of(const fs::file_status& status) {
    return static_cast<std::uint32_t>(status.permissions()) & 07777;
}

Result<std::string> hash_file(const fs::path& path, std::uint64_t& size) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return local_error(ErrorKind::invalid_argument,
                           fmt::format("cannot read {}", path.string()));
    Sha256 hasher;
    std::string buffer(read_chunk_bytes, '\0');
    size = 0;
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        hasher.update(std::string_view(buffer.data(), got));
        size += got;
    }
    if (in.bad())
        return local_error(ErrorKind::invalid_argument,
                           fmt::format("reading {} failed", path.string()));
    return hasher.finish_hex();
}

// Adds `path` (relative name `rel`) and, for a directory, everything under it, parents first,
// children sorted by name.
Result<void> scan(const fs::path& path, const std::string& rel, std::vector<LocalEntry>& out) {
    std::error_code code;
    const auto status = fs::symlink_status(path, code);
    if (code)
        return local_error(kind_of(code), fmt::format("cannot stat {}", path.string()), code);
    LocalEntry entry;
    entry.local = path;
    entry.meta.path = rel;
    entry.meta.mode = mode_of(status);
    if (fs::is_symlink(status)) {
        entry.meta.kind = Kind::symlink;
        entry.meta.link_target = fs::read_symlink(path, code).string();
        if (code)
            return local_error(ErrorKind::invalid_argument,
                               fmt::format("cannot read the link {}", path.string()), code);
        out.push_back(std::move(entry));
        return {};
    }
    if (fs::is_regular_file(status)) {
        entry.meta.kind = Kind::file;
        auto sha = hash_file(path, entry.meta.size);
        if (!sha.ok())
            return std::move(sha).error();
        entry.meta.sha256 = std::move(sha).value();
        out.push_back(std::move(entry));
        return {};
    }
    if (!fs::is_directory(status)) {
        return local_error(ErrorKind::invalid_argument,
                           fmt::format("{} is not a file, directory or symlink", path.string()));
    }
    entry.meta.kind = Kind::directory;
    out.push_back(std::move(entry));
    std::vector<fs::path> children;
    for (fs::directory_iterator it(path, code), end; !code && it != end; it.increment(code))
        children.push_back(it->path());
    if (code)
        return local_error(ErrorKind::invalid_argument,
                           fmt::format("cannot list {}", path.string()), code);
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
        const auto name = child.filename().string();
        auto added = scan(child, rel.empty() ? name : rel + "/" + name, out);
        if (!added.ok())
            return added;
    }
    return {};
}

TarEntry tar_entry_of(const TransferredEntry& meta) {
    TarEntry tar;
    tar.name = upload_member_name(meta.path);
    tar.size = meta.kind == Kind::file ? meta.size : 0;
    tar.link_target = meta.link_target;
    // Staged directories stay writable for the script; their real modes are set at the end.
    tar.mode = meta.kind == Kind::directory ? 0700 : meta.mode;
    tar.type = meta.kind == Kind::directory ? TarEntryType::directory
               : meta.kind == Kind::symlink ? TarEntryType::symlink
                                            : TarEntryType::file;
    return tar;
}

// "3 of 7 entries were complete (a, b/c, d); no other entry was written under its final name"
std::string completion_note(const std::vector<std::string>& complete, std::size_t total) {
    constexpr std::size_t listed = 20;
    std::string names;
    for (std::size_t i = 0; i < complete.size() && i < listed; ++i)
        names += fmt::format("{}{}", i == 0 ? "" : ", ",
                             complete[i].empty() ? std::string(".") : complete[i]);
    if (complete.size() > listed)
        names += fmt::format(", and {} more", complete.size() - listed);
    return fmt::format(
        "{} of {} entries were complete{}; no other file was written under its final name",
        complete.size(), total == 0 ? std::string("?") : std::to_string(total),
        complete.empty() ? "" : fmt::format(" ({})", names));
}

Error with_completion(Error error, const std::vector<std::string>& complete, std::size_t total) {
    error.message = fmt::format("{}; {}", error.message, completion_note(complete, total));
    return error;
}

// Runs `plan` with stdout handed to `on_stdout`, honouring cancellation like run_script.
asio::awaitable<Result<CommandResult>> run_streaming(
    std::shared_ptr<AsyncEciSandbox::State> state, ExecPlan plan, ExecOptions options,
    std::function<void(std::string_view)> on_stdout, std::string& stderr_text) {
    options.sync = true;
    options.max_output_bytes = 0;
    options.on_output = [&, on_stdout](OutputStream stream, std::string_view bytes) {
        if (stream == OutputStream::standard_output) {
            on_stdout(bytes);
            return;
        }
        const auto room = script_stderr_limit - std::min(stderr_text.size(), script_stderr_limit);
        stderr_text.append(bytes.substr(0, room));
    };
    try {
        co_return co_await run_exec(std::move(state), std::move(plan), std::move(options));
    } catch (const boost::system::system_error& thrown) {
        if (thrown.code() != asio::error::operation_aborted)
            throw;
    }
    auto error = Error::make(ErrorKind::cancelled, "the copy was cancelled");
    error.dispatch = Dispatch::unknown;
    co_return error;
}

// The upload's stdin after the script: the manifest, then the tar stream, read from the
// local files piece by piece.
class UploadSource {
  public:
    UploadSource(const std::vector<LocalEntry>& entries, std::string manifest,
                 const std::function<void(const TransferProgress&)>& on_progress,
                 std::uint64_t bytes_total)
        : entries_(entries),
          manifest_(std::move(manifest)),
          on_progress_(on_progress),
          bytes_total_(bytes_total) {}

    void restart() {
        next_ = 0;
        manifest_sent_ = false;
        file_.reset();
        bytes_done_ = 0;
        ended_ = false;
    }

    Result<std::string> next() {
        if (!manifest_sent_) {
            manifest_sent_ = true;
            return manifest_;
        }
        if (file_) {
            const auto& entry = entries_[next_ - 1];
            std::string piece(
                static_cast<std::size_t>(std::min<std::uint64_t>(read_chunk_bytes, left_in_file_)),
                '\0');
            file_->read(piece.data(), static_cast<std::streamsize>(piece.size()));
            if (static_cast<std::size_t>(file_->gcount()) != piece.size()) {
                return local_error(ErrorKind::invalid_argument,
                                   fmt::format("{} changed while it was copied (it shrank)",
                                               entry.local.string()));
            }
            left_in_file_ -= piece.size();
            bytes_done_ += piece.size();
            if (left_in_file_ == 0) {
                file_.reset();
                piece.append(tar_padding(entry.meta.size), '\0');
            }
            if (on_progress_) {
                TransferProgress progress;
                progress.bytes_done = bytes_done_;
                progress.bytes_total = bytes_total_;
                progress.entries_total = entries_.size();
                on_progress_(progress);
            }
            return piece;
        }
        if (next_ == entries_.size()) {
            if (ended_)
                return std::string();
            ended_ = true;
            return tar_end();
        }
        const auto& entry = entries_[next_++];
        auto header = tar_header(tar_entry_of(entry.meta));
        if (!header.ok())
            return std::move(header).error();
        if (entry.meta.kind == Kind::file && entry.meta.size > 0) {
            file_ = std::make_unique<std::ifstream>(entry.local, std::ios::binary);
            if (!*file_)
                return local_error(ErrorKind::invalid_argument,
                                   fmt::format("cannot read {}", entry.local.string()));
            left_in_file_ = entry.meta.size;
        }
        return std::move(header).value();
    }

  private:
    const std::vector<LocalEntry>& entries_;
    std::string manifest_;
    const std::function<void(const TransferProgress&)>& on_progress_;
    std::uint64_t bytes_total_;
    std::size_t next_ = 0;
    bool manifest_sent_ = false;
    bool ended_ = false;
    std::unique_ptr<std::ifstream> file_;
    std::uint64_t left_in_file_ = 0;
    std::uint64_t bytes_done_ = 0;
};

// Writes the download's members under `root` as they stream in.
class DownloadWriter final : public TarHandler {
  public:
    DownloadWriter(fs::path root, std::string base, std::string nonce,
                   const DownloadStreamParser& parser,
                   const std::function<void(const TransferProgress&)>& on_progress)
        : root_(std::move(root)),
          base_(std::move(base)),
          nonce_(std::move(nonce)),
          parser_(parser),
          on_progress_(on_progress) {}

    ~DownloadWriter() override { discard_temporary(); }

    Result<void> on_entry(const TarEntry& entry) override {
        auto rel = relative(entry.name);
        if (!rel.ok())
            return std::move(rel).error();
        auto target = target_of(*rel);
        if (!target.ok())
            return std::move(target).error();
        current_ = TransferredEntry{};
        current_.path = *rel;
        current_.mode = entry.mode;
        member_ = entry.name;
        target_ = *target;
        std::error_code code;
        switch (entry.type) {
            case TarEntryType::directory: {
                current_.kind = Kind::directory;
                if (!fs::is_directory(fs::symlink_status(target_, code))) {
                    fs::create_directory(target_, code);
                    if (code)
                        return local_error(ErrorKind::invalid_argument,
                                           fmt::format("cannot create {}", target_.string()), code);
                }
                directories_.emplace_back(target_, entry.mode);
                return {};
            }
            case TarEntryType::symlink:
            case TarEntryType::hardlink: {
                current_.kind =
                    entry.type == TarEntryType::symlink ? Kind::symlink : Kind::hardlink;
                current_.link_target = entry.link_target;
                temporary_ = temporary_for(target_);
                if (entry.type == TarEntryType::symlink) {
                    fs::create_symlink(entry.link_target, temporary_, code);
                } else {
                    auto from = relative(entry.link_target);
                    if (!from.ok())
                        return std::move(from).error();
                    auto source = target_of(*from);
                    if (!source.ok())
                        return std::move(source).error();
                    fs::create_hard_link(*source, temporary_, code);
                }
                if (code)
                    return local_error(ErrorKind::invalid_argument,
                                       fmt::format("cannot create {}", target_.string()), code);
                return {};
            }
            case TarEntryType::file: {
                current_.kind = Kind::file;
                temporary_ = temporary_for(target_);
                file_.open(temporary_, std::ios::binary | std::ios::trunc);
                if (!file_)
                    return local_error(ErrorKind::invalid_argument,
                                       fmt::format("cannot create {}", temporary_.string()));
                return {};
            }
            case TarEntryType::other:
                skipped_.push_back(*rel);
                current_.path.clear();
                skipping_ = true;
                return {};
        }
        return {};
    }

    Result<void> on_data(std::string_view bytes) override {
        if (skipping_)
            return {};
        file_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!file_)
            return local_error(ErrorKind::invalid_argument,
                               fmt::format("writing {} failed", temporary_.string()));
        hasher_.update(bytes);
        current_.size += bytes.size();
        bytes_done_ += bytes.size();
        report({});
        return {};
    }

    Result<void> on_entry_end() override {
        if (skipping_) {
            skipping_ = false;
            return {};
        }
        std::error_code code;
        if (current_.kind == Kind::file) {
            file_.close();
            if (!file_)
                return local_error(ErrorKind::invalid_argument,
                                   fmt::format("writing {} failed", temporary_.string()));
            current_.sha256 = hasher_.finish_hex();
            const auto* expected = parser_.sha256_of(member_);
            if (expected == nullptr || *expected != current_.sha256) {
                discard_temporary();
                return Error::make(
                    ErrorKind::protocol,
                    fmt::format("file \"{}\" changed in transit or while being read: the sandbox "
                                "hashed SHA-256 {}, received {} bytes hash to {}; it was not "
                                "written",
                                current_.path, expected ? *expected : "(none)", current_.size,
                                current_.sha256));
            }
            fs::permissions(temporary_, static_cast<fs::perms>(current_.mode),
                            fs::perm_options::replace, code);
            ++files_;
            bytes_ += current_.size;
        }
        if (current_.kind != Kind::directory) {
            const auto existing = fs::symlink_status(target_, code);
            if (fs::is_directory(existing)) {
                discard_temporary();
                return Error::make(ErrorKind::invalid_argument,
                                   fmt::format("{} is a directory", target_.string()));
            }
            fs::rename(temporary_, target_, code);
            if (code) {
                discard_temporary();
                return local_error(ErrorKind::invalid_argument,
                                   fmt::format("cannot rename into {}", target_.string()), code);
            }
            temporary_.clear();
            if (current_.kind == Kind::hardlink)
                ++files_;
        }
        complete_.push_back(current_.path);
        entries_.push_back(current_);
        report(current_.path);
        return {};
    }

    // Directory modes last: a read-only directory would have refused its own entries.
    Result<void> finish() {
        for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
            std::error_code code;
            fs::permissions(it->first, static_cast<fs::perms>(it->second),
                            fs::perm_options::replace, code);
            if (code)
                return local_error(ErrorKind::invalid_argument,
                                   fmt::format("cannot set the mode of {}", it->first.string()),
                                   code);
        }
        return {};
    }

    void discard_temporary() {
        if (file_.is_open())
            file_.close();
        if (!temporary_.empty()) {
            std::error_code ignored;
            fs::remove(temporary_, ignored);
            temporary_.clear();
        }
    }

    const std::vector<std::string>& complete() const { return complete_; }
    std::vector<TransferredEntry>& entries() { return entries_; }
    std::vector<std::string>& skipped() { return skipped_; }
    std::size_t files() const { return files_; }
    std::uint64_t bytes() const { return bytes_; }

  private:
    // The member's path below the root; refuses anything that would leave it.
    Result<std::string> relative(std::string_view name) const {
        while (name.starts_with("./"))
            name.remove_prefix(2);
        std::string_view rest;
        if (name == base_) {
            rest = {};
        } else if (name.starts_with(base_) && name.size() > base_.size() &&
                   name[base_.size()] == '/') {
            rest = name.substr(base_.size() + 1);
        } else {
            return Error::make(ErrorKind::protocol,
                               fmt::format("tar member \"{}\" is outside the copied root", name));
        }
        for (std::size_t begin = 0; begin <= rest.size() && !rest.empty();) {
            const auto end = std::min(rest.find('/', begin), rest.size());
            const auto part = rest.substr(begin, end - begin);
            if (part.empty() || part == "." || part == "..")
                return Error::make(ErrorKind::protocol,
                                   fmt::format("tar member \"{}\" has an unsafe path", name));
            begin = end + 1;
        }
        return std::string(rest);
    }

    // root/rel, refusing a path that passes through a symlink (a hostile stream could plant
    // one pointing outside and then write through it).
    Result<fs::path> target_of(const std::string& rel) const {
        fs::path target = root_;
        if (rel.empty())
            return target;
        fs::path relpath(rel);
        for (auto part = relpath.begin(); part != relpath.end(); ++part) {
            std::error_code code;
            if (fs::is_symlink(fs::symlink_status(target, code)) && target != root_) {
                return Error::make(ErrorKind::protocol,
                                   fmt::format("tar member \"{}\" passes through a symlink", rel));
            }
            target /= *part;
        }
        return target;
    }

    fs::path temporary_for(const fs::path& target) const {
        return target.parent_path() /
               fmt::format(".{}.eci-tmp-{}", target.filename().string(), nonce_);
    }

    void report(std::string_view path) {
        if (!on_progress_)
            return;
        TransferProgress progress;
        progress.bytes_done = bytes_done_;
        progress.entries_done = complete_.size();
        progress.path = path;
        on_progress_(progress);
    }

    fs::path root_;
    std::string base_;
    std::string nonce_;
    const DownloadStreamParser& parser_;
    const std::function<void(const TransferProgress&)>& on_progress_;
    TransferredEntry current_;
    std::string member_;
    fs::path target_;
    fs::path temporary_;
    std::ofstream file_;
    Sha256 hasher_;
    bool skipping_ = false;
    std::vector<std::pair<fs::path, std::uint32_t>> directories_;
    std::vector<std::string> complete_;
    std::vector<TransferredEntry> entries_;
    std::vector<std::string> skipped_;
    std::size_t files_ = 0;
    std::uint64_t bytes_ = 0;
    std::uint64_t bytes_done_ = 0;
};

asio::awaitable<Result<std::string>> container_for(std::shared_ptr<AsyncEciSandbox::State> state,
                                                   const std::string& sandbox_id,
                                                   std::string given) {
    if (sandbox_id.empty())
        co_return Error::make(ErrorKind::invalid_argument, "sandbox id is required");
    co_return co_await resolve_container_name(std::move(state), sandbox_id, std::move(given));
}

asio::awaitable<Result<TransferResult>> upload_tree(std::shared_ptr<AsyncEciSandbox::State> state,
                                                    std::string sandbox_id, std::string local,
                                                    std::string remote, TransferOptions options) {
    if (local.empty())
        co_return Error::make(ErrorKind::invalid_argument, "local path is empty");
    if (auto valid = split_remote_path(remote); !valid.ok())
        co_return std::move(valid).error();
    auto root = fs::path(local).lexically_normal();
    std::error_code code;
    auto absolute = fs::absolute(root, code).lexically_normal();
    auto root_name = absolute.filename().string();
    if (root_name.empty())
        root_name = absolute.parent_path().filename().string();
    if (root_name.empty() || root_name == "." || root_name == "..")
        co_return Error::make(ErrorKind::invalid_argument,
                              fmt::format("cannot copy \"{}\": it has no name", local));
    std::vector<LocalEntry> entries;
    if (auto scanned = scan(root, "", entries); !scanned.ok())
        co_return std::move(scanned).error();

    std::string manifest;
    std::uint64_t tar_bytes = tar_end().size();
    std::uint64_t bytes_total = 0;
    std::size_t files = 0;
    for (const auto& entry : entries) {
        manifest += upload_manifest_line(entry.meta);
        auto header = tar_header(tar_entry_of(entry.meta));
        if (!header.ok())
            co_return std::move(header).error();
        tar_bytes += header->size();
        if (entry.meta.kind == Kind::file) {
            tar_bytes += entry.meta.size + tar_padding(entry.meta.size);
            bytes_total += entry.meta.size;
            ++files;
        }
    }
    auto nonce = random_hex(6);
    if (!nonce.ok())
        co_return std::move(nonce).error();
    auto script = upload_script(remote, root_name, entries.front().meta.kind, manifest.size(),
                                tar_bytes, *nonce);
    if (!script.ok())
        co_return std::move(script).error();
    auto container = co_await container_for(state, sandbox_id, options.container_name);
    if (!container.ok())
        co_return std::move(container).error();

    auto source = std::make_shared<UploadSource>(entries, std::move(manifest), options.on_progress,
                                                 bytes_total);
    UploadReplyParser parser;
    std::vector<std::string> complete;
    ExecPlan plan;
    plan.sandbox_id = std::move(sandbox_id);
    plan.container_name = std::move(container).value();
    plan.argv = script_stdin_argv(script->size());
    plan.stdin_data = std::move(script).value();
    plan.stdin_source = [source] { return source->next(); };
    plan.command_on_stdin = true;
    // Only a run that never connected is run again (nothing can have been sent).
    plan.on_rerun = [source, &complete] {
        source->restart();
        complete.clear();
    };
    ExecOptions exec;
    exec.timeout = options.timeout;
    std::string stderr_text;
    auto run = co_await run_streaming(
        state, std::move(plan), std::move(exec),
        [&](std::string_view bytes) {
            for (auto index : parser.feed(bytes)) {
                if (index >= entries.size())
                    continue;
                complete.push_back(entries[index].meta.path);
                if (options.on_progress) {
                    TransferProgress progress;
                    progress.bytes_total = bytes_total;
                    progress.bytes_done = bytes_total;
                    progress.entries_done = complete.size();
                    progress.entries_total = entries.size();
                    progress.path = entries[index].meta.path;
                    options.on_progress(progress);
                }
            }
        },
        stderr_text);
    if (!run.ok())
        co_return with_completion(std::move(run).error(), complete, entries.size());
    std::vector<TransferredEntry> metas;
    metas.reserve(entries.size());
    for (auto& entry : entries)
        metas.push_back(std::move(entry.meta));
    if (auto verdict = parser.verdict(metas); !verdict.ok()) {
        auto error = after_exec(std::move(verdict).error(), *run);
        if (error.service_message.empty())
            error.service_message = redact_secrets(stderr_text);
        co_return with_completion(std::move(error), complete, metas.size());
    }
    TransferResult result;
    result.source = std::move(local);
    result.destination = parser.destination().empty() ? remote : std::string(parser.destination());
    result.files = files;
    result.bytes = bytes_total;
    result.entries = std::move(metas);
    result.request_id = run->request_id;
    co_return result;
}

asio::awaitable<Result<TransferResult>> download_tree(std::shared_ptr<AsyncEciSandbox::State> state,
                                                      std::string sandbox_id, std::string remote,
                                                      std::string local, TransferOptions options) {
    if (local.empty())
        co_return Error::make(ErrorKind::invalid_argument, "local path is empty");
    auto split = split_remote_path(remote);
    if (!split.ok())
        co_return std::move(split).error();
    auto script = download_script(remote);
    if (!script.ok())
        co_return std::move(script).error();
    // An existing directory receives the root inside it; otherwise `local` is the new name,
    // and its directory must exist.
    fs::path root(local);
    std::error_code code;
    if (fs::is_directory(root, code)) {
        root /= split->base;
    } else {
        auto parent = fs::absolute(root, code).parent_path();
        if (!fs::is_directory(parent, code))
            co_return Error::make(ErrorKind::not_found,
                                  fmt::format("no such local directory: {}", parent.string()));
    }
    auto nonce = random_hex(6);
    if (!nonce.ok())
        co_return std::move(nonce).error();
    auto container = co_await container_for(state, sandbox_id, options.container_name);
    if (!container.ok())
        co_return std::move(container).error();

    auto parser = std::make_unique<DownloadStreamParser>();
    auto writer =
        std::make_unique<DownloadWriter>(root, split->base, *nonce, *parser, options.on_progress);
    std::optional<Error> failed;
    ExecPlan plan;
    plan.sandbox_id = std::move(sandbox_id);
    plan.container_name = std::move(container).value();
    plan.argv = script_stdin_argv(script->size());
    plan.stdin_data = std::move(script).value();
    plan.command_on_stdin = true;
    ExecOptions exec;
    exec.timeout = options.timeout;
    std::string stderr_text;
    // A local failure (disk full, a hostile member) stops the writing; the rest of the
    // stream is drained unread until the command ends.
    auto run = co_await run_streaming(
        state, std::move(plan), std::move(exec),
        [&](std::string_view bytes) {
            if (failed)
                return;
            if (auto fed = parser->feed(bytes, *writer); !fed.ok()) {
                failed = std::move(fed).error();
                writer->discard_temporary();
            }
        },
        stderr_text);
    writer->discard_temporary();
    const auto& complete = writer->complete();
    if (failed) {
        if (run.ok())
            failed = after_exec(std::move(*failed), *run);
        co_return with_completion(std::move(*failed), complete, 0);
    }
    if (!run.ok())
        co_return with_completion(std::move(run).error(), complete, 0);
    if (auto verdict = parser->verdict(); !verdict.ok()) {
        auto error = after_exec(std::move(verdict).error(), *run);
        if (error.service_message.empty())
            error.service_message = redact_secrets(stderr_text);
        co_return with_completion(std::move(error), complete, 0);
    }
    if (auto finished = writer->finish(); !finished.ok())
        co_return with_completion(std::move(finished).error(), complete, 0);
    TransferResult result;
    result.source = std::move(remote);
    result.destination = root.string();
    result.files = writer->files();
    result.bytes = writer->bytes();
    result.entries = std::move(writer->entries());
    result.skipped = std::move(writer->skipped());
    result.request_id = run->request_id;
    co_return result;
}

}  // namespace
}  // namespace detail

asio::awaitable<Result<TransferResult>> AsyncEciSandbox::upload(std::string sandbox_id,
                                                                std::string local_path,
                                                                std::string sandbox_path,
                                                                TransferOptions options) {
    return detail::upload_tree(state_, std::move(sandbox_id), std::move(local_path),
                               std::move(sandbox_path), std::move(options));
}

asio::awaitable<Result<TransferResult>> AsyncEciSandbox::download(std::string sandbox_id,
                                                                  std::string sandbox_path,
                                                                  std::string local_path,
                                                                  TransferOptions options) {
    return detail::download_tree(state_, std::move(sandbox_id), std::move(sandbox_path),
                                 std::move(local_path), std::move(options));
}

asio::awaitable<Result<TransferResult>> AsyncSandbox::upload(std::string local_path,
                                                             std::string sandbox_path,
                                                             TransferOptions options) {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return client_.upload(sandbox_id_, std::move(local_path), std::move(sandbox_path),
                          std::move(options));
}

asio::awaitable<Result<TransferResult>> AsyncSandbox::download(std::string sandbox_path,
                                                               std::string local_path,
                                                               TransferOptions options) {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return client_.download(sandbox_id_, std::move(sandbox_path), std::move(local_path),
                            std::move(options));
}

}  // namespace eci
