// Private to server/eventloop: the socket-notifier side of EpollEventDispatcher. It maps file
// descriptors to the (at most three) enabled QSocketNotifiers on them and keeps one epoll
// registration per descriptor in step with them.
#pragma once

#include <QSocketNotifier>
#include <QVarLengthArray>
#include <cstdint>
#include <vector>

namespace parley::server {

//! File descriptor -> enabled notifiers, mirrored into an epoll set.
//!
//! Contracts:
//! - Several notifiers on one descriptor (Read, Write, Exception) share one epoll registration
//!   whose event mask is the union of what they want.
//! - Changes are recorded, not applied: applyChanges() issues the epoll_ctl calls for the
//!   descriptors touched since its last call, right before the dispatcher waits. A write
//!   notifier that is enabled and disabled again within one round (the usual pattern of a
//!   socket flushing its buffer) costs no system call, and the cost is proportional to the
//!   number of changes, never to the number of registered descriptors.
//! - Every registration gets a fresh stamp. An Activation carries the stamp seen when the
//!   kernel reported readiness; current() returns the notifier only if that very registration
//!   is still in place, so a notifier that was disabled, deleted, or replaced by another one at
//!   the same address while earlier activations of the round were delivered is never activated.
//! - Descriptors epoll refuses (EPERM: regular files, which poll() reports as always ready) are
//!   kept on an "always ready" list, which the dispatcher activates on every round, mirroring
//!   poll() semantics.
//! Not thread-safe: owned and used by the dispatcher's thread only.
class NotifierTable {
public:
    struct Activation {
        int fd = -1;
        QSocketNotifier::Type type = QSocketNotifier::Read;
        quint64 stamp = 0;
    };
    using ActivationList = QVarLengthArray<Activation, 128>;

    explicit NotifierTable(int epollFd);
    NotifierTable(const NotifierTable&) = delete;
    NotifierTable& operator=(const NotifierTable&) = delete;

    void add(QSocketNotifier* notifier);
    void remove(QSocketNotifier* notifier);
    //! Issues the epoll_ctl calls for descriptors changed since the last call.
    void applyChanges();

    //! Appends the activations that an epoll event with mask `events` on `fd` implies.
    void collect(int fd, std::uint32_t events, ActivationList& out) const;
    //! Appends activations for the registered descriptors epoll cannot watch.
    void collectAlwaysReady(ActivationList& out) const;
    bool hasAlwaysReady() const { return !m_alwaysReady.empty(); }

    //! The notifier an activation is for, or nullptr if its registration is gone.
    QSocketNotifier* current(const Activation& activation) const;

    std::size_t descriptorCount() const { return m_descriptorCount; }

private:
    struct Entry {
        QSocketNotifier* notifiers[3] = { nullptr, nullptr, nullptr };
        quint64 stamps[3] = { 0, 0, 0 };
        std::uint32_t kernelEvents = 0; // the mask epoll currently has for this fd
        bool inKernel = false;
        bool dirty = false;
        bool emptied = false; // went without notifiers since the last applyChanges()
        bool alwaysReady = false;

        bool isEmpty() const { return !notifiers[0] && !notifiers[1] && !notifiers[2]; }
    };

    Entry* entry(int fd);
    const Entry* entry(int fd) const;
    void markDirty(int fd, Entry& e);
    void setAlwaysReady(int fd, Entry& e, bool on);
    static std::uint32_t wantedEvents(const Entry& e);

    int m_epollFd;
    std::vector<Entry> m_entries; // indexed by fd: descriptors are small, dense integers
    std::vector<int> m_dirty;
    std::vector<int> m_alwaysReady;
    std::size_t m_descriptorCount = 0;
    quint64 m_nextStamp = 0;
};

} // namespace parley::server
