// SPDX-License-Identifier: Apache-2.0
// The Emulator facade over Server, and the ready line.
#include "emulator/emulator.hpp"

#include "emulator/server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace eci::emulator {

namespace asio = boost::asio;

std::string ReadyInfo::to_json_line() const {
    boost::json::object line;
    line["endpoint"] = endpoint;
    line["scheme"] = scheme;
    line["ca_file"] = ca_file;
    line["region_id"] = region_id;
    line["access_key_id"] = access_key_id;
    line["access_key_secret"] = access_key_secret;
    line["isolation"] = isolation;
    line["sandbox_network"] = sandbox_network;
    line["limits"] = limits;
    line["userns"] = userns;
    if (userns_base != 0)
        line["userns_base"] = userns_base;
    if (!userns_warning.empty())
        line["userns_warning"] = userns_warning;
    if (!isolation_warning.empty())
        line["isolation_warning"] = isolation_warning;
    if (!metadata_endpoint.empty())
        line["metadata_endpoint"] = metadata_endpoint;
    return boost::json::serialize(line);
}

Emulator::Emulator(std::shared_ptr<Server> server) : server_(std::move(server)) {}

Emulator::~Emulator() {
    if (server_)
        server_->close_now();
}

Result<std::unique_ptr<Emulator>> Emulator::start(asio::any_io_executor executor,
                                                  EmulatorOptions options) {
    auto server = std::make_shared<Server>(std::move(executor), std::move(options));
    if (auto opened = server->open(); !opened)
        return opened.error();
    server->start();
    return std::unique_ptr<Emulator>(new Emulator(std::move(server)));
}

asio::awaitable<void> Emulator::stop() {
    auto server = server_;
    co_await asio::co_spawn(server->strand(), server->stop(), asio::use_awaitable);
}

const ReadyInfo& Emulator::ready() const noexcept {
    return server_->ready();
}

MetadataStats Emulator::metadata_stats() const noexcept {
    return server_->metadata_stats();
}

std::string Emulator::stats_json() const {
    return server_->stats_json();
}

}  // namespace eci::emulator
