#include "seqcheck.h"

#include <algorithm>

namespace parley::bench {

void SeqCheck::start(std::uint64_t baseline)
{
    m_last = baseline;
    m_ownAbove.clear();
    m_gaps.clear();
    m_gapOverflow = 0;
    m_bad = 0;
}

bool SeqCheck::onMessage(std::uint64_t seq)
{
    if (seq <= m_last) {
        ++m_bad;
        return false;
    }
    if (seq - m_last > 2 * kMaxGaps) {
        // A wild jump (a broken server): count it without walking every seq in between.
        m_gapOverflow += seq - m_last - 1;
        m_last = seq;
        m_ownAbove.erase(
            m_ownAbove.begin(), std::upper_bound(m_ownAbove.begin(), m_ownAbove.end(), seq));
        return true;
    }
    // Every seq skipped over must be one of our own (acked, or acked later).
    auto own = m_ownAbove.begin();
    for (std::uint64_t q = m_last + 1; q < seq; ++q) {
        own = std::lower_bound(own, m_ownAbove.end(), q);
        if (own != m_ownAbove.end() && *own == q) {
            continue;
        }
        if (m_gaps.size() < kMaxGaps) {
            m_gaps.push_back(q); // ascending: q only grows across calls
        } else {
            ++m_gapOverflow;
        }
    }
    m_last = seq;
    m_ownAbove.erase(m_ownAbove.begin(), std::upper_bound(m_ownAbove.begin(), m_ownAbove.end(), seq));
    return true;
}

void SeqCheck::onOwnAck(std::uint64_t seq)
{
    if (seq <= m_last) {
        // Either the echo of our own message came first, or a later message skipped it.
        const auto it = std::lower_bound(m_gaps.begin(), m_gaps.end(), seq);
        if (it != m_gaps.end() && *it == seq) {
            m_gaps.erase(it);
        }
        return;
    }
    const auto it = std::lower_bound(m_ownAbove.begin(), m_ownAbove.end(), seq);
    if (it == m_ownAbove.end() || *it != seq) {
        m_ownAbove.insert(it, seq);
    }
}

std::uint64_t SeqCheck::missing(std::uint64_t finalSeq) const
{
    std::uint64_t count = m_gaps.size() + m_gapOverflow;
    if (finalSeq > m_last) {
        const auto ownBelowFinal = static_cast<std::uint64_t>(
            std::upper_bound(m_ownAbove.begin(), m_ownAbove.end(), finalSeq) - m_ownAbove.begin());
        count += finalSeq - m_last - ownBelowFinal;
    }
    return count;
}

bool SeqCheck::reached(std::uint64_t finalSeq) const
{
    return m_gaps.empty() && m_gapOverflow == 0 && missing(finalSeq) == 0;
}

} // namespace parley::bench
