// CounterTable: how many places each key (a peer address, a user name) holds, under a limit.
//
// Thread-safe and cheap under contention: the keys are spread over kShards shards, each a map
// under its own mutex, so threads counting different keys rarely wait for each other, and a
// count costs one short critical section. Keys whose count drops to 0 leave the table: its
// size is the number of keys holding places now, never the number ever seen.
//
// tryAcquire() hands out the key's entry; it stays valid (unordered_map nodes do not move) until
// the last place of the key is released, and release() takes that entry back, so a holder needs
// to keep no copy of the key.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace parley::server {

template <typename Key, typename Hash = std::hash<Key>>
class CounterTable {
public:
    using Entry = std::pair<const Key, std::uint32_t>;
    static constexpr std::size_t kShards = 16;

    //! Counts one more place for `key` unless it holds `limit` already: its entry, or null.
    Entry* tryAcquire(const Key& key, std::uint32_t limit)
    {
        if (limit == 0) {
            return nullptr;
        }
        Shard& shard = shardOf(key);
        const std::lock_guard lock(shard.mutex);
        auto [it, inserted] = shard.counts.try_emplace(key, 0);
        if (it->second >= limit) {
            return nullptr; // not a fresh entry: limit > 0, and a fresh one is below it
        }
        ++it->second;
        return &*it;
    }

    //! Gives back one place of the entry tryAcquire() returned.
    void release(Entry* entry)
    {
        Shard& shard = shardOf(entry->first);
        const std::lock_guard lock(shard.mutex);
        if (--entry->second == 0) {
            // find() reads the key before erase() frees the node that holds it.
            shard.counts.erase(shard.counts.find(entry->first));
        }
    }

    //! Places `key` holds now.
    std::uint32_t count(const Key& key) const
    {
        const Shard& shard = shardOf(key);
        const std::lock_guard lock(shard.mutex);
        const auto it = shard.counts.find(key);
        return it == shard.counts.end() ? 0 : it->second;
    }

    //! Keys holding places now.
    std::size_t size() const
    {
        std::size_t total = 0;
        for (const Shard& shard : m_shards) {
            const std::lock_guard lock(shard.mutex);
            total += shard.counts.size();
        }
        return total;
    }

private:
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<Key, std::uint32_t, Hash> counts;
    };

    // The high bits pick the shard, the map's buckets use the low ones.
    Shard& shardOf(const Key& key) { return m_shards[(Hash {}(key) >> 48) % kShards]; }
    const Shard& shardOf(const Key& key) const
    {
        return m_shards[(Hash {}(key) >> 48) % kShards];
    }

    std::array<Shard, kShards> m_shards;
};

} // namespace parley::server
