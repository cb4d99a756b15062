// TransportNegotiator: which transport a Client opens next, and when it is worth probing the
// preferred one again.
//
// Pure bookkeeping (no sockets, no timers, no clock), so it is tested with tables of outcomes.
// The Client reports how each connection went; the negotiator answers with the kind to use.
//
// Contract:
// - The order is a list of distinct kinds (default WebSocket, SSE, long-poll); the first is the
//   preferred one. Auto is not a kind of its own and is dropped from the order.
// - An attempt that fails to open (the connection never proved it carries frames: a refused
//   upgrade, a proxy or HTTP error, no welcome or no downstream frame in time) counts towards
//   `failuresBeforeFallback`; that many failures in a row on one kind move to the next kind.
//   After the last kind, the order starts over from the first: when every kind fails, the
//   server is probably down, and the first kind is tried again as soon as the others were.
// - A connection that proved itself resets the count; its kind is the one to remember.
// - start(remembered) begins at a remembered kind if it is in the order (the last kind that
//   worked for this server), else at the first.
// - While the current kind is not the preferred one, the Client probes the preferred kind in
//   the background; probe delays grow from `probeDelay` by doubling up to `probeMaxDelay`, and
//   restart from `probeDelay` once the preferred kind proved itself.
#pragma once

#include "base/backoff.h"

#include <QList>
#include <QString>
#include <chrono>
#include <optional>
#include <parley/clientoptions.h>

namespace parley {

class TransportNegotiator {
public:
    //! WebSocket, then SSE, then long-poll.
    static QList<TransportKind> defaultOrder();

    explicit TransportNegotiator(QList<TransportKind> order = defaultOrder(),
        int failuresBeforeFallback = 2,
        std::chrono::milliseconds probeDelay = std::chrono::seconds(5),
        std::chrono::milliseconds probeMaxDelay = std::chrono::minutes(5));

    //! The order actually used: `order` without Auto and duplicates; defaultOrder() if empty.
    static QList<TransportKind> normalized(const QList<TransportKind>& order);

    //! Starts over at `remembered` (when it is in the order) or at the first kind.
    void start(std::optional<TransportKind> remembered = std::nullopt);

    //! The kind to open now.
    TransportKind current() const { return m_order.at(m_index); }
    //! The first kind of the order.
    TransportKind preferred() const { return m_order.constFirst(); }
    //! Whether current() is not the preferred kind (the Client probes the preferred one).
    bool onFallback() const { return m_index != 0; }
    //! Failed opens of current() in a row.
    int failures() const { return m_failures; }
    const QList<TransportKind>& order() const { return m_order; }

    //! An attempt on current() failed to open. Returns true when current() changed.
    bool openFailed();
    //! current() carried frames: the failure count is reset. Resets the probe backoff when
    //! current() is the preferred kind.
    void openSucceeded();
    //! A probe of preferred() succeeded: current() becomes the preferred kind, with no failure
    //! counted; openSucceeded() or openFailed() follow once the switched connection shows.
    void upgraded();

    //! The delay before the next probe of preferred(); each call doubles the following one.
    std::chrono::milliseconds nextProbeDelay();

private:
    QList<TransportKind> m_order;
    int m_failuresBeforeFallback;
    //! No jitter: the probes are one client's own schedule, shared with nobody.
    Backoff m_probes;
    qsizetype m_index = 0;
    int m_failures = 0;
};

//! The kind named by transportKindName() (not Auto), or nothing.
std::optional<TransportKind> transportKindFromName(const QString& name);

} // namespace parley
