#include "notifiertable_p.h"

#include <QtGlobal>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>

namespace parley::server {

namespace {

const char* typeName(QSocketNotifier::Type type)
{
    switch (type) {
    case QSocketNotifier::Read:
        return "Read";
    case QSocketNotifier::Write:
        return "Write";
    case QSocketNotifier::Exception:
        return "Exception";
    }
    return "?";
}

// Which epoll events activate which notifier type. Hang-up and error wake every type, as
// poll()-based dispatchers do: the owner learns about the failure by trying to read or write.
constexpr std::uint32_t kActivating[3] = {
    EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR, // Read
    EPOLLOUT | EPOLLHUP | EPOLLERR, // Write
    EPOLLPRI | EPOLLHUP | EPOLLERR, // Exception
};

} // namespace

NotifierTable::NotifierTable(int epollFd)
    : m_epollFd(epollFd)
{
}

NotifierTable::Entry* NotifierTable::entry(int fd)
{
    if (fd < 0 || std::size_t(fd) >= m_entries.size()) {
        return nullptr;
    }
    return &m_entries[std::size_t(fd)];
}

const NotifierTable::Entry* NotifierTable::entry(int fd) const
{
    if (fd < 0 || std::size_t(fd) >= m_entries.size()) {
        return nullptr;
    }
    return &m_entries[std::size_t(fd)];
}

void NotifierTable::add(QSocketNotifier* notifier)
{
    const int fd = int(notifier->socket());
    if (fd < 0) {
        return;
    }
    if (std::size_t(fd) >= m_entries.size()) {
        m_entries.resize(std::max<std::size_t>(std::size_t(fd) + 1, m_entries.size() * 2));
    }
    Entry& e = m_entries[std::size_t(fd)];
    const int type = int(notifier->type());
    if (e.notifiers[type] && e.notifiers[type] != notifier) {
        qWarning("EpollEventDispatcher: multiple socket notifiers for socket %d and type %s; "
                 "the newest one wins",
            fd, typeName(notifier->type()));
    }
    if (e.isEmpty()) {
        ++m_descriptorCount;
    }
    e.notifiers[type] = notifier;
    e.stamps[type] = ++m_nextStamp;
    markDirty(fd, e);
}

void NotifierTable::remove(QSocketNotifier* notifier)
{
    const int fd = int(notifier->socket());
    Entry* e = entry(fd);
    const int type = int(notifier->type());
    if (!e || e->notifiers[type] != notifier) {
        return;
    }
    e->notifiers[type] = nullptr;
    e->stamps[type] = 0;
    if (e->isEmpty()) {
        --m_descriptorCount;
        e->emptied = true;
        if (e->inKernel) {
            // Leave the epoll set now, while the descriptor is surely still open. Deferred to
            // applyChanges(), the EPOLL_CTL_DEL would come after the owner closed it; if the
            // socket lives on in a dup() (a connection handed from QTcpSocket to a raw-descriptor
            // owner), the kernel keeps the registration of the closed number and reports its
            // events under that number, which a later socket may reuse.
            ::epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr);
            e->inKernel = false;
            e->kernelEvents = 0;
        }
    }
    markDirty(fd, *e);
}

void NotifierTable::markDirty(int fd, Entry& e)
{
    if (!e.dirty) {
        e.dirty = true;
        m_dirty.push_back(fd);
    }
}

std::uint32_t NotifierTable::wantedEvents(const Entry& e)
{
    std::uint32_t events = 0;
    if (e.notifiers[QSocketNotifier::Read]) {
        events |= EPOLLIN | EPOLLRDHUP;
    }
    if (e.notifiers[QSocketNotifier::Write]) {
        events |= EPOLLOUT;
    }
    if (e.notifiers[QSocketNotifier::Exception]) {
        events |= EPOLLPRI;
    }
    return events;
}

void NotifierTable::setAlwaysReady(int fd, Entry& e, bool on)
{
    if (e.alwaysReady == on) {
        return;
    }
    e.alwaysReady = on;
    if (on) {
        m_alwaysReady.push_back(fd);
    } else {
        m_alwaysReady.erase(
            std::remove(m_alwaysReady.begin(), m_alwaysReady.end(), fd), m_alwaysReady.end());
    }
}

void NotifierTable::applyChanges()
{
    for (const int fd : m_dirty) {
        Entry& e = m_entries[std::size_t(fd)];
        e.dirty = false;
        // Emptied and refilled within one round: the descriptor may have been closed and its
        // number reused by a new socket, which the kernel does not know yet although the mask
        // looks unchanged. Re-issue the registration (MOD, falling back to ADD) to be sure.
        const bool mayBeNewFile = e.emptied;
        e.emptied = false;
        const std::uint32_t wanted = wantedEvents(e);

        if (wanted == 0) {
            setAlwaysReady(fd, e, false);
            if (e.inKernel) {
                // Fails with EBADF/ENOENT if the descriptor was closed first; the kernel has
                // then dropped the registration itself, which is the state we want.
                ::epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr);
                e.inKernel = false;
                e.kernelEvents = 0;
            }
            continue;
        }
        if (mayBeNewFile) {
            setAlwaysReady(fd, e, false);
        }
        if (e.alwaysReady || (e.inKernel && e.kernelEvents == wanted && !mayBeNewFile)) {
            continue;
        }

        epoll_event ev {};
        ev.events = wanted;
        ev.data.u64 = std::uint64_t(fd);
        // A descriptor closed and reopened behind our back (same number, new file) is not in
        // the epoll set any more although we think it is, and the opposite can happen too:
        // fall back from MOD to ADD and from ADD to MOD.
        int rc = ::epoll_ctl(m_epollFd, e.inKernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
        if (rc != 0 && e.inKernel && errno == ENOENT) {
            rc = ::epoll_ctl(m_epollFd, EPOLL_CTL_ADD, fd, &ev);
        } else if (rc != 0 && !e.inKernel && errno == EEXIST) {
            rc = ::epoll_ctl(m_epollFd, EPOLL_CTL_MOD, fd, &ev);
        }
        if (rc == 0) {
            e.inKernel = true;
            e.kernelEvents = wanted;
        } else if (errno == EPERM) {
            e.inKernel = false;
            e.kernelEvents = 0;
            setAlwaysReady(fd, e, true);
        } else {
            qWarning("EpollEventDispatcher: cannot watch socket %d: %s", fd, std::strerror(errno));
            e.inKernel = false;
            e.kernelEvents = 0;
        }
    }
    m_dirty.clear();
}

void NotifierTable::collect(int fd, std::uint32_t events, ActivationList& out) const
{
    const Entry* e = entry(fd);
    if (!e) {
        return;
    }
    for (int type = 0; type < 3; ++type) {
        if (e->notifiers[type] && (events & kActivating[type]) != 0) {
            out.append({ fd, QSocketNotifier::Type(type), e->stamps[type] });
        }
    }
}

void NotifierTable::collectAlwaysReady(ActivationList& out) const
{
    for (const int fd : m_alwaysReady) {
        collect(fd, EPOLLIN | EPOLLOUT, out);
    }
}

QSocketNotifier* NotifierTable::current(const Activation& activation) const
{
    const Entry* e = entry(activation.fd);
    if (!e || e->stamps[activation.type] != activation.stamp) {
        return nullptr;
    }
    return e->notifiers[activation.type];
}

} // namespace parley::server
