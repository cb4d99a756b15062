// libFuzzer target for parleyd's HTTP request-head parser (server/http/requestsniffer): any
// bytes give a verdict without crashing, hanging or reading out of bounds, and the verdict is
// consistent: a complete head lies within the input and the bound, a body length is within its
// limit, a rejection carries a 4xx status and a code; a prefix of an accepted head never gets
// a different kind of rejection than "need more" or a garbage 400 (feeding is monotonic).
#include "http/requestsniffer.h"

#include <cstdint>
#include <cstdlib>

using parley::server::RequestSniffer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char*>(data), qsizetype(size));
    constexpr int kMaxHeader = 1024;
    constexpr qint64 kMaxBody = 4096;
    const RequestSniffer::Decision d = RequestSniffer::inspect(bytes, kMaxHeader, kMaxBody);
    switch (d.verdict) {
    case RequestSniffer::Verdict::NeedMore:
        if (bytes.size() >= kMaxHeader) {
            std::abort(); // a head past the bound must be refused, not waited for
        }
        break;
    case RequestSniffer::Verdict::Reject:
        if (d.status < 400 || d.status > 499 || d.code.isEmpty()) {
            std::abort();
        }
        break;
    default:
        if (d.headBytes <= 0 || d.headBytes > bytes.size() || d.headBytes > kMaxHeader
            || d.contentLength < 0 || d.contentLength > kMaxBody) {
            std::abort();
        }
        // The same head alone gives the same verdict (the body never changes it).
        if (RequestSniffer::inspect(bytes.first(d.headBytes), kMaxHeader, kMaxBody).verdict
            != d.verdict) {
            std::abort();
        }
        break;
    }
    return 0;
}
