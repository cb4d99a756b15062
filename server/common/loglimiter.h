// LogLimiter: bounds how many lines one log site writes, so that a flood of connections (each
// refused, timed out, cut off) is not also a flood of log lines filling the operator's disk.
//
// One limiter per log site (a static at the site, named after the site's event), shared by every
// thread. Each admits at most linesPerSecond() lines per second, in bursts of that many (a token
// bucket); the lines it refuses are counted, and the next line it admits reports the count:
//
//     static LogLimiter limiter("http_reject");
//     if (const auto suppressed = limiter.admit()) {
//         qCInfo(lcIo, "event=http_reject status=%d%s", status, LogLimiter::suffix(*suppressed));
//     }
//
// So that a count is not held back until the next such event (which may never come), the
// server's sweep calls flushSuppressed(): a site with suppressed lines and room in its bucket
// writes "event=log_suppressed kind=<name> suppressed=N" instead. Nothing goes unseen: the lines
// of a kind plus its suppressed counts are every event of that kind.
//
// The rate is process-wide (parleyd --log-rate-limit, set once at start-up); 0 admits every line.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

namespace parley::server {

class LogLimiter {
public:
    static constexpr int kDefaultLinesPerSecond = 10;

    //! `kind` names the site's event in the flushSuppressed() line (a string literal).
    explicit LogLimiter(const char* kind);
    ~LogLimiter();
    LogLimiter(const LogLimiter&) = delete;
    LogLimiter& operator=(const LogLimiter&) = delete;

    //! Sets the lines per second every limiter admits (0: no limit). Thread-safe; meant for
    //! start-up.
    static void setLinesPerSecond(int lines);
    static int linesPerSecond();

    //! Whether a line may be written now (at monotonic time `nowMs`): if so, how many lines this
    //! site suppressed since the last one it admitted. Thread-safe.
    std::optional<std::uint64_t> admit(std::int64_t nowMs);
    //! admit() at the current monotonic time.
    std::optional<std::uint64_t> admit();

    //! " suppressed=N" for N > 0, else "": appended to the admitted line (one per line: the
    //! text lives in a per-thread buffer).
    static const char* suffix(std::uint64_t suppressed);

    //! Logs the suppressed count of every site that has one and may write a line now.
    //! Thread-safe; called periodically.
    static void flushSuppressed(std::int64_t nowMs);

private:
    //! Refills the bucket to `nowMs` and takes a token if there is one (m_mutex held).
    bool takeToken(std::int64_t nowMs, int rate);

    const char* const m_kind;
    std::mutex m_mutex;
    double m_tokens = -1; // -1: not started (the first call fills the bucket)
    std::int64_t m_lastMs = 0;
    std::uint64_t m_suppressed = 0;
    LogLimiter* m_next = nullptr; // every limiter, for flushSuppressed()
};

} // namespace parley::server
