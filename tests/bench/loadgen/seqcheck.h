// Per-room delivery check for one connection: Parley promises every member the room's messages
// in seq order (1, 2, 3, ... no holes, no duplicates). A connection that sends also learns some
// seqs from its acks: whether or not the server echoes a sender's own message back, a seq this
// connection was acked for counts as seen. Acks and deliveries may interleave in any order.
#pragma once

#include <cstdint>
#include <vector>

namespace parley::bench {

class SeqCheck {
public:
    //! The room's last seq when this connection joined (joined.last_seq).
    void start(std::uint64_t baseline);

    //! A `message` with this seq arrived. False when it is not above the last one (a duplicate
    //! or a reordering), which is counted.
    bool onMessage(std::uint64_t seq);
    //! This connection's own send was acked with this seq.
    void onOwnAck(std::uint64_t seq);

    //! How many seqs in (baseline, finalSeq] this connection neither received nor sent.
    std::uint64_t missing(std::uint64_t finalSeq) const;
    //! True once every seq up to finalSeq is accounted for (used to end the drain early).
    bool reached(std::uint64_t finalSeq) const;

    std::uint64_t duplicatesOrReordered() const { return m_bad; }
    std::uint64_t lastMessageSeq() const { return m_last; }

private:
    static constexpr std::size_t kMaxGaps = 100000;

    std::uint64_t m_last = 0; //!< highest seq received as a message (or the baseline)
    std::vector<std::uint64_t> m_ownAbove; //!< sorted own-acked seqs above m_last
    std::vector<std::uint64_t> m_gaps; //!< sorted seqs skipped by messages and not own-acked yet
    std::uint64_t m_gapOverflow = 0;
    std::uint64_t m_bad = 0;
};

} // namespace parley::bench
