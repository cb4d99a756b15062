#include "loglimiter.h"

#include "clock.h"

#include <QLoggingCategory>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <utility>

namespace parley::server {

Q_LOGGING_CATEGORY(lcLog, "parley.log", QtInfoMsg)

namespace {

std::atomic<int> g_linesPerSecond { LogLimiter::kDefaultLinesPerSecond };

// Every limiter (they are function-local statics: created on first use, gone at exit).
std::mutex g_registryMutex;
LogLimiter* g_first = nullptr;

} // namespace

LogLimiter::LogLimiter(const char* kind)
    : m_kind(kind)
{
    const std::lock_guard lock(g_registryMutex);
    m_next = g_first;
    g_first = this;
}

LogLimiter::~LogLimiter()
{
    const std::lock_guard lock(g_registryMutex);
    for (LogLimiter** link = &g_first; *link != nullptr; link = &(*link)->m_next) {
        if (*link == this) {
            *link = m_next;
            break;
        }
    }
}

void LogLimiter::setLinesPerSecond(int lines)
{
    g_linesPerSecond.store(std::max(0, lines), std::memory_order_relaxed);
}

int LogLimiter::linesPerSecond()
{
    return g_linesPerSecond.load(std::memory_order_relaxed);
}

bool LogLimiter::takeToken(std::int64_t nowMs, int rate)
{
    if (m_tokens < 0) {
        m_tokens = rate;
    } else if (nowMs > m_lastMs) {
        m_tokens = std::min<double>(rate, m_tokens + double(nowMs - m_lastMs) * rate / 1000.0);
    }
    m_lastMs = std::max(m_lastMs, nowMs);
    if (m_tokens < 1) {
        return false;
    }
    m_tokens -= 1;
    return true;
}

std::optional<std::uint64_t> LogLimiter::admit(std::int64_t nowMs)
{
    const int rate = linesPerSecond();
    const std::lock_guard lock(m_mutex);
    if (rate != 0 && !takeToken(nowMs, rate)) {
        ++m_suppressed;
        return std::nullopt;
    }
    return std::exchange(m_suppressed, 0);
}

std::optional<std::uint64_t> LogLimiter::admit()
{
    return admit(monotonicMs());
}

const char* LogLimiter::suffix(std::uint64_t suppressed)
{
    if (suppressed == 0) {
        return "";
    }
    thread_local char text[40];
    std::snprintf(
        text, sizeof text, " suppressed=%llu", static_cast<unsigned long long>(suppressed));
    return text;
}

void LogLimiter::flushSuppressed(std::int64_t nowMs)
{
    const int rate = linesPerSecond();
    const std::lock_guard registry(g_registryMutex);
    for (LogLimiter* limiter = g_first; limiter != nullptr; limiter = limiter->m_next) {
        std::uint64_t suppressed = 0;
        {
            const std::lock_guard lock(limiter->m_mutex);
            if (limiter->m_suppressed == 0 || (rate != 0 && !limiter->takeToken(nowMs, rate))) {
                continue;
            }
            suppressed = std::exchange(limiter->m_suppressed, 0);
        }
        qCInfo(lcLog, "event=log_suppressed kind=%s suppressed=%llu", limiter->m_kind,
            static_cast<unsigned long long>(suppressed));
    }
}

} // namespace parley::server
