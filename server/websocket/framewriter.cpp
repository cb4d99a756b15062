#include "framewriter.h"

namespace parley::server::websocket {

int writeFrameHeader(
    char* out, Opcode opcode, quint64 length, bool fin, bool masked, quint32 maskKey)
{
    auto* p = reinterpret_cast<uchar*>(out);
    p[0] = uchar((fin ? 0x80 : 0x00) | quint8(opcode));
    const uchar maskBit = masked ? 0x80 : 0x00;
    int size = 2;
    if (length <= 125) {
        p[1] = uchar(maskBit | length);
    } else if (length <= 0xFFFF) {
        p[1] = uchar(maskBit | 126);
        p[2] = uchar(length >> 8);
        p[3] = uchar(length);
        size = 4;
    } else {
        p[1] = uchar(maskBit | 127);
        for (int i = 0; i < 8; ++i) {
            p[2 + i] = uchar(length >> (8 * (7 - i)));
        }
        size = 10;
    }
    if (masked) {
        p[size] = uchar(maskKey >> 24);
        p[size + 1] = uchar(maskKey >> 16);
        p[size + 2] = uchar(maskKey >> 8);
        p[size + 3] = uchar(maskKey);
        size += 4;
    }
    return size;
}

QByteArray encodeFrame(Opcode opcode, QByteArrayView payload)
{
    char header[kMaxHeaderSize];
    const int headerSize = writeFrameHeader(header, opcode, quint64(payload.size()));
    QByteArray frame;
    frame.reserve(headerSize + payload.size());
    frame.append(header, headerSize);
    frame.append(payload.data(), payload.size());
    return frame;
}

QByteArray encodeCloseFrame(CloseCode code, QByteArrayView reason)
{
    QByteArray payload;
    payload.reserve(2 + reason.size());
    payload.append(char(quint16(code) >> 8));
    payload.append(char(quint16(code) & 0xFF));
    payload.append(reason.first(std::min<qsizetype>(reason.size(), 123)));
    return encodeFrame(Opcode::Close, payload);
}

QByteArray encodeMaskedFrame(Opcode opcode, QByteArrayView payload, quint32 maskKey, bool fin)
{
    char header[kMaxHeaderSize];
    const int headerSize
        = writeFrameHeader(header, opcode, quint64(payload.size()), fin, true, maskKey);
    QByteArray frame;
    frame.reserve(headerSize + payload.size());
    frame.append(header, headerSize);
    frame.append(payload.data(), payload.size());
    applyMask(frame.data() + headerSize, payload.size(), maskKey);
    return frame;
}

} // namespace parley::server::websocket
