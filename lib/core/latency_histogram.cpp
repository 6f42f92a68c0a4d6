// SPDX-License-Identifier: Apache-2.0
#include <eci/latency_histogram.hpp>

#include <algorithm>
#include <bit>
#include <cmath>

namespace eci {

namespace {

constexpr int first_bound_log2 = 6;  // bucket 0 ends at 2^6 = 64 µs

}  // namespace

std::chrono::microseconds LatencyHistogram::upper_bound(std::size_t bucket) noexcept {
    if (bucket + 1 >= bucket_count)
        return std::chrono::microseconds::max();
    return std::chrono::microseconds(std::int64_t{1} << (first_bound_log2 + bucket));
}

std::size_t LatencyHistogram::bucket_of(std::chrono::microseconds latency) noexcept {
    if (latency.count() <= (std::int64_t{1} << first_bound_log2))
        return 0;
    // The smallest i with latency <= 2^(6+i): bit_width(latency - 1) - 6.
    const auto above = static_cast<std::uint64_t>(latency.count() - 1);
    const auto index = static_cast<std::size_t>(std::bit_width(above)) - first_bound_log2;
    return std::min(index, bucket_count - 1);
}

void LatencyHistogram::record(std::chrono::microseconds latency) noexcept {
    latency = std::max(latency, std::chrono::microseconds(0));
    ++buckets[bucket_of(latency)];
    ++count;
    sum += latency;
    max = std::max(max, latency);
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i)
        buckets[i] += other.buckets[i];
    count += other.count;
    sum += other.sum;
    max = std::max(max, other.max);
}

std::chrono::microseconds LatencyHistogram::quantile(double quantile) const noexcept {
    if (count == 0)
        return std::chrono::microseconds(0);
    quantile = std::clamp(quantile, 0.0, 1.0);
    // The rank of the observation asked for, 1-based: at least the first one. The epsilon
    // keeps 0.9 * 100 (90.00000000000001 in binary) at rank 90.
    const auto rank = std::max<std::uint64_t>(
        1, static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(count) - 1e-9)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
        seen += buckets[i];
        if (seen >= rank)
            return std::min(upper_bound(i), max);
    }
    return max;
}

std::chrono::microseconds LatencyHistogram::mean() const noexcept {
    if (count == 0)
        return std::chrono::microseconds(0);
    return std::chrono::microseconds(sum.count() / static_cast<std::int64_t>(count));
}

}  // namespace eci
