// SPDX-License-Identifier: Apache-2.0
#include <eci/config.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
  public:
    TempDir() {
        std::random_device random;
        path_ = fs::temp_directory_path() /
                fmt::format("eci-config-test-{}-{:08x}", ::getpid(), random());
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }

    fs::path write(const fs::path& relative, std::string_view text) const {
        const fs::path file = path_ / relative;
        fs::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out << text;
        return file;
    }

  private:
    fs::path path_;
};

using Environment = std::map<std::string, std::string>;

eci::ConfigSources sources_for(const Environment& environment, const fs::path& working_directory,
                               bool read_dotenv = true) {
    eci::ConfigSources sources;
    sources.getenv = [environment](std::string_view name) -> std::optional<std::string> {
        if (auto it = environment.find(std::string(name)); it != environment.end()) {
            return it->second;
        }
        return std::nullopt;
    };
    sources.working_directory = working_directory;
    sources.read_dotenv = read_dotenv;
    return sources;
}

eci::ConfigOverrides with_credentials() {
    eci::ConfigOverrides overrides;
    overrides.access_key_id = "LTAI5tOverrideKeyId";
    overrides.access_key_secret = "override-secret";
    return overrides;
}

eci::ClientConfig load_ok(const eci::ConfigOverrides& overrides,
                          const eci::ConfigSources& sources) {
    auto config = eci::load_config(overrides, sources);
    if (!config.ok())
        FAIL("load_config failed: " << config.error().to_string());
    return config.value();
}

eci::Error load_error(const eci::ConfigOverrides& overrides, const eci::ConfigSources& sources) {
    auto config = eci::load_config(overrides, sources);
    REQUIRE_FALSE(config.ok());
    return config.error();
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// One configurable value: how to set it explicitly, the variable names in precedence order,
// a valid raw value per layer, and what the loaded config shows when that layer wins.
struct VariableCase {
    std::string label;
    std::function<void(eci::ConfigOverrides&, const std::string&)> set_override;
    std::vector<std::string> names;
    std::function<std::string(int layer)> value;
    std::function<std::string(const eci::ClientConfig&)> read;
    std::function<std::string(int layer)> expected;
};

}  // namespace

TEST_CASE("config: defaults when only credentials are given", "[config]") {
    TempDir dir;
    const eci::ClientConfig config =
        load_ok(with_credentials(), sources_for({}, dir.path(), false));
    CHECK(config.region_id == "cn-shanghai");
    CHECK(config.endpoint.scheme == "https");
    CHECK(config.endpoint.host == "eci.cn-shanghai.aliyuncs.com");
    CHECK(config.endpoint.port == 0);
    CHECK(config.endpoint.effective_port() == 443);
    CHECK(config.signature_version == eci::SignatureVersion::acs3);
    CHECK(config.timeouts.connect == 10s);
    CHECK(config.timeouts.read == 60s);
    CHECK(config.tls.verify_peer);
    CHECK(config.tls.ca_file.empty());
    CHECK(config.proxy.https_proxy.empty());
    CHECK(config.retry.max_attempts == 10);
    CHECK(config.pool.max_connections_per_endpoint == 16);
    CHECK(config.max_response_body_bytes == 16u * 1024u * 1024u);
    CHECK(config.credentials.security_token.empty());
}

TEST_CASE("config: each source beats the next, for every variable", "[config]") {
    TempDir dir;
    // CA files that exist, one per layer.
    std::vector<fs::path> ca_files;
    for (int layer = 0; layer < 5; ++layer) {
        ca_files.push_back(
            dir.write(fmt::format("ca{}.pem", layer), "-----BEGIN CERTIFICATE-----\n"));
    }
    const std::vector<VariableCase> cases = {
        {"access key id",
         [](eci::ConfigOverrides& o, const std::string& v) { o.access_key_id = v; },
         {"ECI_SANDBOX_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"},
         [](int layer) { return fmt::format("LTAI5tLayer{}Id", layer); },
         [](const eci::ClientConfig& c) { return c.credentials.access_key_id; },
         [](int layer) { return fmt::format("LTAI5tLayer{}Id", layer); }},
        {"access key secret",
         [](eci::ConfigOverrides& o, const std::string& v) { o.access_key_secret = v; },
         {"ECI_SANDBOX_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"},
         [](int layer) { return fmt::format("secret-{}", layer); },
         [](const eci::ClientConfig& c) { return c.credentials.access_key_secret; },
         [](int layer) { return fmt::format("secret-{}", layer); }},
        {"region",
         [](eci::ConfigOverrides& o, const std::string& v) { o.region_id = v; },
         {"ECI_SANDBOX_REGION_ID", "ALIBABA_CLOUD_REGION_ID"},
         [](int layer) { return fmt::format("region-{}", layer); },
         [](const eci::ClientConfig& c) { return c.region_id + " " + c.endpoint.host; },
         [](int layer) { return fmt::format("region-{0} eci.region-{0}.aliyuncs.com", layer); }},
        {"endpoint",
         [](eci::ConfigOverrides& o, const std::string& v) { o.endpoint = v; },
         {"ECI_SANDBOX_ENDPOINT"},
         [](int layer) { return fmt::format("http://host{}.example.com:80{}", layer, layer); },
         [](const eci::ClientConfig& c) { return fmt::format("{}", c.endpoint); },
         [](int layer) { return fmt::format("http://host{}.example.com:80{}", layer, layer); }},
        {"timeout",
         [](eci::ConfigOverrides& o, const std::string& v) {
             o.timeout = std::chrono::milliseconds(std::stoll(v));
         },
         {"ECI_SANDBOX_TIMEOUT_MS"},
         [](int layer) { return std::to_string(1000 + layer); },
         [](const eci::ClientConfig& c) { return std::to_string(c.timeouts.read.count()); },
         [](int layer) { return std::to_string(1000 + layer); }},
        {"CA file",
         [](eci::ConfigOverrides& o, const std::string& v) { o.ca_file = v; },
         {"ECI_SANDBOX_CA_FILE"},
         [&](int layer) { return ca_files[static_cast<std::size_t>(layer)].string(); },
         [](const eci::ClientConfig& c) { return c.tls.ca_file; },
         [&](int layer) { return ca_files[static_cast<std::size_t>(layer)].string(); }},
        {"signature version",
         [](eci::ConfigOverrides& o, const std::string& v) {
             o.signature_version =
                 v == "v2" ? eci::SignatureVersion::rpc_v2 : eci::SignatureVersion::acs3;
         },
         {"ECI_SANDBOX_SIGNATURE_VERSION"},
         // Only two values exist: the winning layer says v2, every weaker one acs3 (and the
         // default is acs3), so a layer that is skipped shows up as acs3.
         [](int) { return std::string("acs3"); },
         [](const eci::ClientConfig& c) {
             return std::string(eci::to_string(c.signature_version));
         },
         [](int) { return std::string("v2"); }},
        {"https proxy",
         [](eci::ConfigOverrides& o, const std::string& v) { o.https_proxy = v; },
         {"https_proxy", "HTTPS_PROXY"},
         [](int layer) { return fmt::format("http://proxy{}.internal:3128", layer); },
         [](const eci::ClientConfig& c) { return c.proxy.https_proxy; },
         [](int layer) { return fmt::format("http://proxy{}.internal:3128", layer); }},
        {"no proxy",
         [](eci::ConfigOverrides& o, const std::string& v) { o.no_proxy = v; },
         {"no_proxy", "NO_PROXY"},
         [](int layer) { return fmt::format(".internal{}", layer); },
         [](const eci::ClientConfig& c) { return c.proxy.no_proxy; },
         [](int layer) { return fmt::format(".internal{}", layer); }},
    };

    for (const VariableCase& variable : cases) {
        const int names = static_cast<int>(variable.names.size());
        const int layers = 1 + 2 * names;  // override, each name in env, each name in .env
        for (int winner = 0; winner < layers; ++winner) {
            INFO(variable.label << ", winning layer " << winner);
            const bool is_signature = variable.label == "signature version";
            auto raw = [&](int layer) {
                return is_signature && layer == winner ? std::string("v2") : variable.value(layer);
            };
            // Credentials come explicitly unless one of them is under test; then the other
            // one comes explicitly and the tested one only from its layers.
            eci::ConfigOverrides overrides;
            if (variable.label != "access key id")
                overrides.access_key_id = "LTAI5tBaseKeyId00";
            if (variable.label != "access key secret")
                overrides.access_key_secret = "base-secret";
            Environment environment;
            std::string dotenv;
            for (int layer = winner; layer < layers; ++layer) {
                if (layer == 0) {
                    variable.set_override(overrides, raw(layer));
                } else if (layer <= names) {
                    environment[variable.names[static_cast<std::size_t>(layer - 1)]] = raw(layer);
                } else {
                    dotenv += fmt::format(
                        "{}='{}'\n", variable.names[static_cast<std::size_t>(layer - 1 - names)],
                        raw(layer));
                }
            }
            dir.write(".env", dotenv);
            const eci::ClientConfig config =
                load_ok(overrides, sources_for(environment, dir.path()));
            CHECK(variable.read(config) == variable.expected(winner));
        }
    }
}

TEST_CASE("config: the security token never comes from a weaker source than the key id",
          "[config]") {
    TempDir dir;
    auto token_for = [&](const eci::ConfigOverrides& overrides, const Environment& environment,
                         std::string_view dotenv) {
        dir.write(".env", dotenv);
        return load_ok(overrides, sources_for(environment, dir.path())).credentials.security_token;
    };
    eci::ConfigOverrides explicit_key = with_credentials();
    const Environment eci_env = {{"ECI_SANDBOX_ACCESS_KEY_ID", "LTAI5tEnvironmentId"},
                                 {"ECI_SANDBOX_ACCESS_KEY_SECRET", "env-secret"}};

    // A token left in the environment is not paired with an explicit key...
    CHECK(token_for(explicit_key, {{"ECI_SANDBOX_SECURITY_TOKEN", "env-token"}}, "").empty());
    // ...but an explicit token goes with a key from the environment (as the Python package).
    eci::ConfigOverrides explicit_token;
    explicit_token.security_token = "explicit-token";
    CHECK(token_for(explicit_token, eci_env, "") == "explicit-token");
    // Same family, same layer.
    Environment with_token = eci_env;
    with_token["ECI_SANDBOX_SECURITY_TOKEN"] = "eci-token";
    CHECK(token_for({}, with_token, "") == "eci-token");
    // ECI_SANDBOX_* token beats ALIBABA_CLOUD_* and may go with an ALIBABA_CLOUD_* key.
    const Environment alibaba = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tAlibabaKeyId"},
                                 {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ali-secret"},
                                 {"ALIBABA_CLOUD_SECURITY_TOKEN", "ali-token"},
                                 {"ECI_SANDBOX_SECURITY_TOKEN", "eci-token"}};
    CHECK(token_for({}, alibaba, "") == "eci-token");
    // An ALIBABA_CLOUD_* token does not go with an ECI_SANDBOX_* key.
    Environment mixed = eci_env;
    mixed["ALIBABA_CLOUD_SECURITY_TOKEN"] = "ali-token";
    CHECK(token_for({}, mixed, "").empty());
    // A .env token does not go with an environment key; a .env key takes its .env token.
    CHECK(token_for({}, eci_env, "ECI_SANDBOX_SECURITY_TOKEN=file-token\n").empty());
    CHECK(token_for({}, {},
                    "ECI_SANDBOX_ACCESS_KEY_ID=LTAI5tFileKeyId\nECI_SANDBOX_ACCESS_KEY_SECRET=s\n"
                    "ECI_SANDBOX_SECURITY_TOKEN=file-token\n") == "file-token");
}

TEST_CASE("config: empty variables count as unset, an explicit empty proxy means none",
          "[config]") {
    TempDir dir;
    const Environment environment = {{"ECI_SANDBOX_ACCESS_KEY_ID", ""},
                                     {"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tAlibabaKeyId"},
                                     {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s"},
                                     {"ECI_SANDBOX_REGION_ID", ""},
                                     {"HTTPS_PROXY", "http://proxy.internal:3128"}};
    const eci::ClientConfig config = load_ok({}, sources_for(environment, dir.path(), false));
    CHECK(config.credentials.access_key_id == "LTAI5tAlibabaKeyId");
    CHECK(config.region_id == "cn-shanghai");
    CHECK(config.proxy.https_proxy == "http://proxy.internal:3128");

    eci::ConfigOverrides no_proxy;
    no_proxy.https_proxy = "";
    CHECK(load_ok(no_proxy, sources_for(environment, dir.path(), false)).proxy.https_proxy.empty());
}

TEST_CASE("config: .env discovery walks up from the working directory", "[config]") {
    TempDir dir;
    const fs::path deep = dir.path() / "a" / "b" / "c";
    fs::create_directories(deep);
    dir.write("a/.env",
              "ECI_SANDBOX_ACCESS_KEY_ID=LTAI5tFromA\nECI_SANDBOX_ACCESS_KEY_SECRET=secret-a\n"
              "ECI_SANDBOX_REGION_ID=cn-hangzhou\n");

    eci::ClientConfig config = load_ok({}, sources_for({}, deep));
    CHECK(config.credentials.access_key_id == "LTAI5tFromA");
    CHECK(config.region_id == "cn-hangzhou");

    // A nearer .env wins over a farther one, entirely (files are not merged).
    dir.write(
        "a/b/.env",
        "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tFromB\nALIBABA_CLOUD_ACCESS_KEY_SECRET=secret-b\n");
    config = load_ok({}, sources_for({}, deep));
    CHECK(config.credentials.access_key_id == "LTAI5tFromB");
    CHECK(config.region_id == "cn-shanghai");

    // A directory named .env is not a file and is skipped.
    fs::create_directories(deep / ".env");
    config = load_ok({}, sources_for({}, deep));
    CHECK(config.credentials.access_key_id == "LTAI5tFromB");

    // Discovery off: only the environment counts.
    eci::ConfigOverrides overrides;
    overrides.access_key_secret = "s";
    const eci::Error error = load_error(overrides, sources_for({}, deep, false));
    CHECK(error.kind == eci::ErrorKind::auth);
}

TEST_CASE("config: an explicit .env path replaces discovery and must be readable", "[config]") {
    TempDir dir;
    dir.write(".env",
              "ECI_SANDBOX_ACCESS_KEY_ID=LTAI5tDiscovered\nECI_SANDBOX_ACCESS_KEY_SECRET=d\n");
    dir.write("conf/custom.env",
              "ECI_SANDBOX_ACCESS_KEY_ID=LTAI5tExplicitFile\nECI_SANDBOX_ACCESS_KEY_SECRET=e\n");

    eci::ConfigOverrides overrides;
    overrides.dotenv_path = "conf/custom.env";  // relative to the working directory
    CHECK(load_ok(overrides, sources_for({}, dir.path())).credentials.access_key_id ==
          "LTAI5tExplicitFile");
    // Read even when discovery is off.
    CHECK(load_ok(overrides, sources_for({}, dir.path(), false)).credentials.access_key_id ==
          "LTAI5tExplicitFile");
    // The environment still beats it.
    CHECK(load_ok(overrides,
                  sources_for({{"ECI_SANDBOX_ACCESS_KEY_ID", "LTAI5tEnvironment"}}, dir.path()))
              .credentials.access_key_id == "LTAI5tEnvironment");

    overrides.dotenv_path = dir.path() / "missing.env";
    eci::Error error = load_error(overrides, sources_for({}, dir.path()));
    CHECK(error.kind == eci::ErrorKind::invalid_argument);
    CHECK(contains(error.message, "missing.env"));

    overrides.dotenv_path = dir.path() / "conf";  // a directory
    CHECK(load_error(overrides, sources_for({}, dir.path())).kind ==
          eci::ErrorKind::invalid_argument);

    if (::geteuid() != 0) {  // root reads anything, so the permission check cannot fail
        const fs::path locked = dir.write("locked.env", "A=1\n");
        fs::permissions(locked, fs::perms::none);
        overrides.dotenv_path = locked;
        CHECK(load_error(overrides, sources_for({}, dir.path())).kind ==
              eci::ErrorKind::invalid_argument);
    }
}

TEST_CASE("config: a .env syntax error names the file and line, not the value", "[config]") {
    TempDir dir;
    dir.write(".env",
              "ECI_SANDBOX_ACCESS_KEY_ID=LTAI5tKeyId\nECI_SANDBOX_ACCESS_KEY_SECRET=\"hunter2\n");
    const eci::Error error = load_error({}, sources_for({}, dir.path()));
    CHECK(error.kind == eci::ErrorKind::invalid_argument);
    CHECK(contains(error.message, "line 2"));
    CHECK(contains(error.message, ".env"));
    CHECK_FALSE(contains(error.message, "hunter2"));
}

TEST_CASE("config: missing credentials name the variables to set", "[config]") {
    TempDir dir;
    const eci::Error both = load_error({}, sources_for({}, dir.path(), false));
    CHECK(both.kind == eci::ErrorKind::auth);
    for (const char* name : {"ECI_SANDBOX_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID",
                             "ECI_SANDBOX_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"}) {
        CHECK(contains(both.message, name));
    }

    const eci::Error no_secret = load_error(
        {}, sources_for({{"ECI_SANDBOX_ACCESS_KEY_ID", "LTAI5tOnlyTheId"}}, dir.path(), false));
    CHECK(no_secret.kind == eci::ErrorKind::auth);
    CHECK(contains(no_secret.message, "no access key secret"));
    CHECK_FALSE(contains(no_secret.message, "LTAI5tOnlyTheId"));

    const eci::Error no_id = load_error(
        {}, sources_for({{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "top-secret"}}, dir.path(), false));
    CHECK(contains(no_id.message, "no access key id"));
    CHECK_FALSE(contains(no_id.message, "top-secret"));
}

TEST_CASE("config: ECI_SANDBOX_TIMEOUT_MS sets the read timeout and caps connect", "[config]") {
    TempDir dir;
    auto load_timeout = [&](std::string value) {
        return eci::load_config(with_credentials(), sources_for({{"ECI_SANDBOX_TIMEOUT_MS", value}},
                                                                dir.path(), false));
    };
    auto short_timeout = load_timeout("2500");
    REQUIRE(short_timeout.ok());
    CHECK(short_timeout->timeouts.read == 2500ms);
    CHECK(short_timeout->timeouts.connect == 2500ms);
    auto long_timeout = load_timeout(" 120000 ");
    REQUIRE(long_timeout.ok());
    CHECK(long_timeout->timeouts.read == 120000ms);
    CHECK(long_timeout->timeouts.connect == 10000ms);
    CHECK(load_timeout("86400000").ok());

    for (const char* bad : {"abc", "0", "-5", "1.5", "10s", "86400001", "99999999999999999999"}) {
        INFO(bad);
        auto result = load_timeout(bad);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().kind == eci::ErrorKind::invalid_argument);
        CHECK(contains(result.error().message, "ECI_SANDBOX_TIMEOUT_MS"));
    }

    eci::ConfigOverrides zero = with_credentials();
    zero.timeout = 0ms;
    CHECK(load_error(zero, sources_for({}, dir.path(), false)).kind ==
          eci::ErrorKind::invalid_argument);
}

TEST_CASE("config: sandboxes get a 30 minute lease unless ECI_SANDBOX_LEASE_SECONDS says otherwise",
          "[config][leases]") {
    TempDir dir;
    auto load_lease = [&](std::optional<std::string> value) {
        Environment environment;
        if (value)
            environment.emplace("ECI_SANDBOX_LEASE_SECONDS", *value);
        return eci::load_config(with_credentials(), sources_for(environment, dir.path(), false));
    };
    // The default: a program that forgets to delete leaks for 30 minutes, not for ever.
    CHECK(eci::LeaseConfig{}.default_lease == 1800s);
    auto defaulted = load_lease(std::nullopt);
    REQUIRE(defaulted.ok());
    CHECK(defaulted->lease.default_lease == 1800s);
    auto longer = load_lease("7200");
    REQUIRE(longer.ok());
    CHECK(longer->lease.default_lease == 7200s);
    for (const char* none : {"0", "never", " never "}) {
        INFO(none);
        auto off = load_lease(none);
        REQUIRE(off.ok());
        CHECK(off->lease.default_lease == eci::no_lease);
    }
    for (const char* bad : {"-1", "30m", "forever", "86400001"}) {
        INFO(bad);
        auto refused = load_lease(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == eci::ErrorKind::invalid_argument);
        CHECK(contains(refused.error().message, "ECI_SANDBOX_LEASE_SECONDS"));
    }
    eci::ClientConfig negative = *defaulted;
    negative.lease.default_lease = -1s;
    CHECK_FALSE(eci::validate_config(negative).ok());
}

TEST_CASE("config: invalid values are refused with the variable's name", "[config]") {
    TempDir dir;
    auto error_for = [&](std::string name, std::string value) {
        return load_error(with_credentials(), sources_for({{name, value}}, dir.path(), false));
    };
    struct Bad {
        const char* name;
        const char* value;
    };
    for (const Bad& bad :
         {Bad{"ECI_SANDBOX_REGION_ID", "CN_Hangzhou"}, Bad{"ECI_SANDBOX_ENDPOINT", "ftp://host"},
          Bad{"ECI_SANDBOX_ENDPOINT", "host:99999"}, Bad{"ECI_SANDBOX_SIGNATURE_VERSION", "v3"},
          Bad{"ECI_SANDBOX_CA_FILE", "/nonexistent/ca.pem"},
          Bad{"HTTPS_PROXY", "socks5://user:hunter2@proxy:1080"}}) {
        INFO(bad.name << "=" << bad.value);
        const eci::Error error = error_for(bad.name, bad.value);
        CHECK(error.kind == eci::ErrorKind::invalid_argument);
        CHECK(contains(error.message, bad.name));
        CHECK_FALSE(contains(error.message, "hunter2"));
    }
}

TEST_CASE("config: signature version names", "[config]") {
    TempDir dir;
    auto version_for = [&](std::string value) {
        return load_ok(with_credentials(),
                       sources_for({{"ECI_SANDBOX_SIGNATURE_VERSION", value}}, dir.path(), false))
            .signature_version;
    };
    CHECK(version_for("acs3") == eci::SignatureVersion::acs3);
    CHECK(version_for("ACS3-HMAC-SHA256") == eci::SignatureVersion::acs3);
    CHECK(version_for("v2") == eci::SignatureVersion::rpc_v2);
    CHECK(version_for("RPC") == eci::SignatureVersion::rpc_v2);
    CHECK(fmt::format("{}", eci::SignatureVersion::rpc_v2) == "v2");
}

TEST_CASE("config: a relative CA file in a .env is relative to that file", "[config]") {
    TempDir dir;
    const fs::path ca = dir.write("a/certs/ca.pem", "pem");
    dir.write("a/.env", "ECI_SANDBOX_CA_FILE=certs/ca.pem\n");
    fs::create_directories(dir.path() / "a" / "b");
    const eci::ClientConfig config =
        load_ok(with_credentials(), sources_for({}, dir.path() / "a" / "b"));
    CHECK(fs::equivalent(config.tls.ca_file, ca));
}

TEST_CASE("config: endpoint parsing accepts hosts, ports, schemes and IPv6", "[config][endpoint]") {
    struct Case {
        const char* text;
        const char* scheme;
        const char* host;
        std::uint16_t port;
        std::uint16_t effective_port;
        const char* authority;
    };
    for (const Case& c : {
             Case{"eci.cn-hangzhou.aliyuncs.com", "https", "eci.cn-hangzhou.aliyuncs.com", 0, 443,
                  "eci.cn-hangzhou.aliyuncs.com"},
             Case{"localhost:8443", "https", "localhost", 8443, 8443, "localhost:8443"},
             Case{"https://eci.example.com", "https", "eci.example.com", 0, 443, "eci.example.com"},
             Case{"HTTPS://eci.example.com:443/", "https", "eci.example.com", 443, 443,
                  "eci.example.com"},
             Case{"http://127.0.0.1:8080", "http", "127.0.0.1", 8080, 8080, "127.0.0.1:8080"},
             Case{"http://emulator", "http", "emulator", 0, 80, "emulator"},
             Case{"[::1]:9443", "https", "::1", 9443, 9443, "[::1]:9443"},
             Case{"http://[fe80::1]", "http", "fe80::1", 0, 80, "[fe80::1]"},
             Case{"  eci.example.com  ", "https", "eci.example.com", 0, 443, "eci.example.com"},
         }) {
        INFO(c.text);
        auto endpoint = eci::parse_endpoint(c.text);
        REQUIRE(endpoint.ok());
        CHECK(endpoint->scheme == c.scheme);
        CHECK(endpoint->host == c.host);
        CHECK(endpoint->port == c.port);
        CHECK(endpoint->effective_port() == c.effective_port);
        CHECK(endpoint->authority() == c.authority);
    }
    CHECK(fmt::format("{}", eci::parse_endpoint("[::1]:9443").value()) == "https://[::1]:9443");
}

TEST_CASE("config: endpoint parsing rejects garbage", "[config][endpoint]") {
    for (const char* bad : {"",
                            "   ",
                            "ftp://host",
                            "https://",
                            "host:",
                            "host:0",
                            "host:65536",
                            "host:12ab",
                            "host/path",
                            "https://host/path",
                            "host?x=1",
                            "user:pw@host",
                            "::1",
                            "[::1",
                            "[nothex]:443",
                            "[::1]x",
                            "bad host",
                            "-bad.example.com",
                            "a..b",
                            "host:1:2",
                            "https://host:443:1",
                            "h\xC3\xA9st"}) {
        INFO(bad);
        auto endpoint = eci::parse_endpoint(bad);
        REQUIRE_FALSE(endpoint.ok());
        CHECK(endpoint.error().kind == eci::ErrorKind::invalid_argument);
    }
}

TEST_CASE("config: proxy URLs parse user info and default the port", "[config][proxy]") {
    auto proxy = eci::parse_proxy_url("http://user%40corp:p%3Ass@proxy.internal:3128/");
    REQUIRE(proxy.ok());
    CHECK(proxy->host == "proxy.internal");
    CHECK(proxy->port == 3128);
    CHECK(proxy->username == "user@corp");
    CHECK(proxy->password == "p:ss");

    auto bare = eci::parse_proxy_url("proxy.internal");
    REQUIRE(bare.ok());
    CHECK(bare->port == 80);
    CHECK(bare->username.empty());

    auto v6 = eci::parse_proxy_url("http://[::1]:3128");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");

    for (const char* bad : {"https://proxy:3128", "socks5://proxy:1080", "http://u:hunter2@",
                            "http://u:%zz@proxy:1", "http://proxy:3128/path", ""}) {
        INFO(bad);
        auto result = eci::parse_proxy_url(bad);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().kind == eci::ErrorKind::invalid_argument);
        CHECK_FALSE(contains(result.error().message, "hunter2"));
    }
}

TEST_CASE("config: NO_PROXY matching", "[config][proxy]") {
    auto bypassed = [](std::string no_proxy, std::string_view host, std::uint16_t port = 0) {
        eci::ProxyConfig proxy;
        proxy.https_proxy = "http://proxy:3128";
        proxy.no_proxy = std::move(no_proxy);
        return eci::proxy_bypassed(proxy, host, port);
    };
    // Empty and wildcard.
    CHECK_FALSE(bypassed("", "eci.aliyuncs.com"));
    CHECK(bypassed("*", "anything.example"));
    CHECK(bypassed("localhost, *", "anything.example"));
    // Domain suffixes, with or without a leading dot or "*.".
    CHECK(bypassed("aliyuncs.com", "eci.cn-hangzhou.aliyuncs.com"));
    CHECK(bypassed("aliyuncs.com", "aliyuncs.com"));
    CHECK(bypassed(".aliyuncs.com", "eci.aliyuncs.com"));
    CHECK(bypassed(".aliyuncs.com", "aliyuncs.com"));
    CHECK(bypassed("*.aliyuncs.com", "eci.aliyuncs.com"));
    CHECK_FALSE(bypassed("aliyuncs.com", "notaliyuncs.com"));
    CHECK_FALSE(bypassed("eci.aliyuncs.com", "aliyuncs.com"));
    // Case, whitespace, trailing dots and several separators.
    CHECK(bypassed("  foo.com ,Example.COM.", "WWW.example.com."));
    CHECK(bypassed("a.com b.com", "b.com"));
    CHECK(bypassed("a.com,,b.com", "x.b.com"));
    // Exact IPs and CIDR blocks; a domain entry never matches an IP.
    CHECK(bypassed("127.0.0.1", "127.0.0.1"));
    CHECK_FALSE(bypassed("127.0.0.1", "127.0.0.2"));
    CHECK_FALSE(bypassed("0.0.1", "10.0.0.1"));
    CHECK(bypassed("10.0.0.0/8", "10.20.30.40"));
    CHECK_FALSE(bypassed("10.0.0.0/8", "11.0.0.1"));
    CHECK(bypassed("192.168.1.0/25", "192.168.1.127"));
    CHECK_FALSE(bypassed("192.168.1.0/25", "192.168.1.128"));
    CHECK(bypassed("::1", "[::1]:443"));
    CHECK(bypassed("[::1]", "::1"));
    CHECK(bypassed("fd00::/8", "fd12::5"));
    CHECK_FALSE(bypassed("fd00::/8", "fe80::1"));
    CHECK_FALSE(bypassed("10.0.0.0/8", "ten.example"));
    // host:port entries match only that port.
    CHECK(bypassed("emulator:8443", "emulator:8443"));
    CHECK(bypassed("emulator:8443", "emulator", 8443));
    CHECK_FALSE(bypassed("emulator:8443", "emulator:443"));
    CHECK_FALSE(bypassed("emulator:8443", "emulator"));
    CHECK(bypassed("[::1]:8443", "[::1]:8443"));
    CHECK(bypassed("emulator", "emulator:8443"));
    // Garbage entries are ignored, not fatal.
    CHECK_FALSE(bypassed("[::1, host:notaport, /", "example.com"));
}

TEST_CASE("config: fmt never shows the secret, the token or the proxy password",
          "[config][redact]") {
    eci::ClientConfig config;
    config.credentials = {"LTAI5tAbcdefghijkmwn", "very-secret-value", "STS.token-value"};
    config.endpoint = eci::parse_endpoint("eci.cn-shanghai.aliyuncs.com").value();
    config.proxy.https_proxy = "http://alice:proxy-password@proxy.internal:3128";

    const std::string credentials = fmt::format("{}", config.credentials);
    CHECK(credentials ==
          "{access_key_id: LTAI****mwn, access_key_secret: <redacted>, security_token: "
          "<redacted>}");

    const std::string text = fmt::format("{}", config);
    for (const char* secret :
         {"very-secret-value", "STS.token-value", "proxy-password", "alice", "Abcdefghijk"}) {
        INFO(secret);
        CHECK_FALSE(contains(text, secret));
    }
    CHECK(contains(text, "LTAI****mwn"));
    CHECK(contains(text, "https://eci.cn-shanghai.aliyuncs.com"));
    CHECK(contains(text, "http://<redacted>@proxy.internal:3128"));

    eci::Credentials no_token{"LTAI5tAbcdefghijkmwn", "s", ""};
    CHECK(contains(fmt::format("{}", no_token), "security_token: <none>"));
}

TEST_CASE("config: validate_config refuses out-of-range fields and dirty credentials", "[config]") {
    eci::ClientConfig good;
    good.credentials = {"LTAI5tAbcdefghijkmwn", "secret", ""};
    good.endpoint.host = "eci.cn-shanghai.aliyuncs.com";
    REQUIRE(eci::validate_config(good).ok());

    auto kind_after = [&](const std::function<void(eci::ClientConfig&)>& change) {
        eci::ClientConfig config = good;
        change(config);
        auto result = eci::validate_config(config);
        REQUIRE_FALSE(result.ok());
        return result.error().kind;
    };
    using K = eci::ErrorKind;
    CHECK(kind_after([](auto& c) { c.credentials.access_key_secret = "secret\n"; }) == K::auth);
    CHECK(kind_after([](auto& c) { c.credentials.access_key_id.clear(); }) == K::auth);
    CHECK(kind_after([](auto& c) { c.endpoint.host.clear(); }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.endpoint.scheme = "ftp"; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.retry.max_attempts = 0; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.retry.multiplier = 0.5; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.retry.max_backoff = 10ms; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.pool.max_connections_per_endpoint = 0; }) ==
          K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.max_response_body_bytes = 0; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.proxy.https_proxy = "https://p:1"; }) == K::invalid_argument);
    CHECK(kind_after([](auto& c) { c.timeouts.read = -1ms; }) == K::invalid_argument);
}
