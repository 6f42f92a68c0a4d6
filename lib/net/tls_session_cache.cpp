// SPDX-License-Identifier: Apache-2.0
#include "net/tls_session_cache.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace eci::detail {

namespace {

// The latest resumable session per host:port, oldest first.
class SessionCache {
  public:
    SessionCache() = default;
    SessionCache(const SessionCache&) = delete;
    SessionCache& operator=(const SessionCache&) = delete;
    ~SessionCache() {
        for (auto& entry : entries_)
            SSL_SESSION_free(entry.second);
    }

    // Takes over the caller's reference to `session`.
    void store(const std::string& key, SSL_SESSION* session) {
        std::lock_guard lock(mutex_);
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            if (it->first == key) {
                SSL_SESSION_free(it->second);
                entries_.erase(it);
                break;
            }
        }
        if (entries_.size() >= tls_session_cache_capacity) {
            SSL_SESSION_free(entries_.front().second);
            entries_.pop_front();
        }
        entries_.emplace_back(key, session);
    }

    // Offers the session of `key` to `ssl` (SSL_set_session takes its own reference).
    void offer(const std::string& key, SSL* ssl) {
        std::lock_guard lock(mutex_);
        for (auto& entry : entries_) {
            if (entry.first == key) {
                if (SSL_SESSION_is_resumable(entry.second) == 1)
                    SSL_set_session(ssl, entry.second);
                return;
            }
        }
    }

    std::size_t size() {
        std::lock_guard lock(mutex_);
        return entries_.size();
    }

  private:
    std::mutex mutex_;
    std::list<std::pair<std::string, SSL_SESSION*>> entries_;
};

void free_cache(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<SessionCache*>(pointer);
}

void free_key(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<std::string*>(pointer);
}

// Where a context keeps its cache and a connection its host:port (allocated once per process).
int cache_index() {
    static const int index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL_CTX, 0, nullptr, nullptr, nullptr, free_cache);
    return index;
}

int key_index() {
    static const int index =
        CRYPTO_get_ex_new_index(CRYPTO_EX_INDEX_SSL, 0, nullptr, nullptr, nullptr, free_key);
    return index;
}

SessionCache* cache_of(SSL_CTX* context) {
    return static_cast<SessionCache*>(SSL_CTX_get_ex_data(context, cache_index()));
}

// OpenSSL calls this when a server issued a session: after a TLS 1.2 handshake, or for each
// TLS 1.3 ticket (these arrive after the handshake, while the connection reads). The cache
// keeps a copy: OpenSSL marks the connection's own session object not resumable when the
// connection is freed without a close_notify of ours, which is how pooled connections and
// exec WebSockets usually end (the server closes, or an idle connection is dropped), although
// the ticket stays as valid as the server made it. Returning 0: OpenSSL keeps its reference.
int on_new_session(SSL* ssl, SSL_SESSION* session) {
    SessionCache* cache = cache_of(SSL_get_SSL_CTX(ssl));
    const auto* key = static_cast<const std::string*>(SSL_get_ex_data(ssl, key_index()));
    if (cache == nullptr || key == nullptr || SSL_SESSION_is_resumable(session) != 1)
        return 0;
    if (SSL_SESSION* copy = SSL_SESSION_dup(session))
        cache->store(*key, copy);
    return 0;
}

}  // namespace

void enable_tls_session_cache(SSL_CTX* context) {
    if (cache_of(context) != nullptr)
        return;
    auto* cache = new SessionCache();
    if (SSL_CTX_set_ex_data(context, cache_index(), cache) != 1) {
        delete cache;
        return;
    }
    // Client sessions go to our callback only; OpenSSL's own (server-style, by session id)
    // store would never be looked up by a client.
    SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE,
                 SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE, nullptr);
    SSL_CTX_sess_set_new_cb(context, on_new_session);
}

void offer_tls_session(SSL* ssl, std::string_view host, std::string_view port) {
    SessionCache* cache = cache_of(SSL_get_SSL_CTX(ssl));
    if (cache == nullptr)
        return;
    auto key = std::make_unique<std::string>(fmt::format("{}:{}", host, port));
    auto* previous = static_cast<std::string*>(SSL_get_ex_data(ssl, key_index()));
    if (SSL_set_ex_data(ssl, key_index(), key.get()) != 1)
        return;                                  // the previous key (if any) stays, owned by `ssl`
    delete previous;                             // from an earlier call on this connection
    const std::string& stored = *key.release();  // owned by `ssl` now (free_key)
    cache->offer(stored, ssl);
}

bool tls_session_resumed(const SSL* ssl) noexcept {
    return ssl != nullptr && SSL_session_reused(ssl) == 1;
}

std::size_t tls_session_cache_size(SSL_CTX* context) {
    SessionCache* cache = cache_of(context);
    return cache != nullptr ? cache->size() : 0;
}

}  // namespace eci::detail
