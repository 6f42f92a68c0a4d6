// SPDX-License-Identifier: Apache-2.0
// eci::LatencyHistogram: how long calls took, in fixed log-scale buckets.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace eci {

/// A latency distribution in fixed buckets that double in width: bucket 0 holds latencies up
/// to 64 µs, bucket i (1 <= i < bucket_count - 1) those in (64 µs * 2^(i-1), 64 µs * 2^i], and
/// the last one everything above (more than about 4.5 minutes). Fixed bounds make snapshots
/// of different clients (or times) addable bucket by bucket and map directly onto an
/// OpenTelemetry or Prometheus explicit-bucket histogram (upper_bound() gives the bounds).
///
/// Recording costs a few integer operations and no allocation. Thread safety: none of its
/// own; the client records on its executor and hands out copies (ClientStats).
struct LatencyHistogram {
    static constexpr std::size_t bucket_count = 24;

    std::array<std::uint64_t, bucket_count> buckets{};  ///< observations per bucket
    std::uint64_t count = 0;                            ///< observations in all buckets
    std::chrono::microseconds sum{0};                   ///< their total
    std::chrono::microseconds max{0};                   ///< the largest one

    /// The inclusive upper bound of `bucket` (64 µs * 2^bucket); microseconds::max() for the
    /// last, unbounded one.
    static std::chrono::microseconds upper_bound(std::size_t bucket) noexcept;
    /// The bucket `latency` falls in (negative counts as 0).
    static std::size_t bucket_of(std::chrono::microseconds latency) noexcept;

    /// Adds one observation.
    void record(std::chrono::microseconds latency) noexcept;
    /// Adds every observation of `other` (same buckets).
    void merge(const LatencyHistogram& other) noexcept;
    /// An upper estimate of the `quantile` (0..1, e.g. 0.99): the upper bound of the bucket
    /// holding it, capped at `max`. Zero when empty.
    std::chrono::microseconds quantile(double quantile) const noexcept;
    /// sum / count; zero when empty.
    std::chrono::microseconds mean() const noexcept;
};

}  // namespace eci
