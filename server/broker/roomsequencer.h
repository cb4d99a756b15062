// RoomSequencer: one room's delivery order on a cluster node, without any I/O.
//
// Messages of a room reach a node from two sources: its Pub/Sub channel (live, possibly out of
// order or with holes while the subscriber link was down) and history reads that fill the holes.
// The sequencer keeps what arrived ahead of the last delivered seq, hands out every contiguous
// run in seq order exactly once, and says which range is missing. RedisBroker does the Redis
// I/O around it; the rules live here, so they are tested with tables (roomsequencer_test.cpp).
//
// Contract:
// - Before position() nothing is delivered; messages that arrive are kept (the position read
//   may come after them). position() anchors the stream at the room's last seq: what is at or
//   below it is dropped (the hub already has it, or the joiner reads it as history).
// - take() returns the run delivered()+1, +2, ... that is complete, advancing delivered(); a seq
//   at or below delivered() is a duplicate and is never returned again.
// - gapEnd(): when messages wait behind a hole, the last missing seq (fetch (delivered(), end]).
// - reposition() after a re-subscription: a lastSeq past delivered() is a gap to fetch; a
//   different epoch means the room's keys were recreated: its seqs start over, kept messages are
//   dropped and delivered() falls back to at most the new lastSeq.
// - fill() takes a history read of the gap; a history whose oldest retained seq is past
//   delivered()+1 was trimmed before this node could read it: that range is skipped (returned,
//   for the log) and delivery continues after it.
#pragma once

#include "protocol/frames.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace parley::server {

class RoomSequencer {
public:
    struct Range {
        std::uint64_t from = 0;
        std::uint64_t to = 0;
        bool operator==(const Range&) const = default;
    };

    bool positioned() const { return m_positioned; }
    const std::string& epoch() const { return m_epoch; }
    //! The last seq handed out (or anchored by position()).
    std::uint64_t delivered() const { return m_delivered; }
    //! Messages kept ahead of delivered().
    std::size_t pending() const { return m_pending.size(); }

    //! Anchors the stream (first position read of the room).
    void position(std::string epoch, std::uint64_t lastSeq);
    //! A position read after a re-subscription. Returns the end of the gap to fetch, if any.
    std::optional<std::uint64_t> reposition(const std::string& epoch, std::uint64_t lastSeq);
    //! Whether reposition() last saw a new epoch (the room's stream started over).
    bool epochChanged() const { return m_epochChanged; }

    //! A message from the channel.
    void receive(protocol::Message message);
    //! A history read of (delivered(), ...]; `firstRetained` is the history's oldest seq.
    //! Returns the range that was trimmed before it could be read, if any.
    std::optional<Range> fill(const std::vector<protocol::Message>& messages,
        std::uint64_t firstRetained);

    //! The complete run after delivered(), in seq order (empty while unpositioned).
    std::vector<protocol::Message> take();
    //! The last missing seq when messages wait behind a hole.
    std::optional<std::uint64_t> gapEnd() const;

private:
    bool m_positioned = false;
    bool m_epochChanged = false;
    std::string m_epoch;
    std::uint64_t m_delivered = 0;
    std::map<std::uint64_t, protocol::Message> m_pending;
};

} // namespace parley::server
