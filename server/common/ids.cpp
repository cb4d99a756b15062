#include "ids.h"

#include <QRandomGenerator>

namespace parley::server {

namespace {

std::string hexFrom(QRandomGenerator* generator, int bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t(bytes) * 2);
    quint64 pool = 0;
    int left = 0;
    for (int i = 0; i < bytes; ++i) {
        if (left == 0) {
            pool = generator->generate64();
            left = 8;
        }
        const auto byte = unsigned(pool & 0xff);
        pool >>= 8;
        --left;
        out.push_back(kDigits[byte >> 4]);
        out.push_back(kDigits[byte & 0xf]);
    }
    return out;
}

} // namespace

std::string randomHex(int bytes)
{
    // QRandomGenerator::global() is thread-safe and seeded from the system source.
    return hexFrom(QRandomGenerator::global(), bytes);
}

std::string secretHex(int bytes)
{
    return hexFrom(QRandomGenerator::system(), bytes);
}

} // namespace parley::server
