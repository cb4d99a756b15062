#include "widgets/avatar.h"

#include <QCryptographicHash>
#include <QPainter>

namespace parley::desktop {

namespace {
bool isDark(const QPalette& palette)
{
    return palette.color(QPalette::Window).lightness() < 128;
}
} // namespace

int Avatar::hue(const QString& user)
{
    // A hash, not qHash(): qHash is seeded per process and colours must not change between runs.
    const QByteArray digest = QCryptographicHash::hash(user.toUtf8(), QCryptographicHash::Md5);
    const quint16 value = quint16((quint8(digest.at(0)) << 8) | quint8(digest.at(1)));
    return value % 360;
}

QColor Avatar::nameColor(const QString& user, const QPalette& palette)
{
    return QColor::fromHsl(hue(user), 160, isDark(palette) ? 170 : 85);
}

void Avatar::paint(
    QPainter* painter, const QRect& rect, const QString& user, const QPalette& palette)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor::fromHsl(hue(user), 130, isDark(palette) ? 95 : 120));
    painter->drawEllipse(rect);
    QFont font = painter->font();
    font.setBold(true);
    font.setPixelSize(std::max(8, rect.height() * 11 / 20));
    painter->setFont(font);
    painter->setPen(Qt::white);
    const QString initial = user.isEmpty() ? QStringLiteral("?") : user.left(1).toUpper();
    painter->drawText(rect, Qt::AlignCenter, initial);
    painter->restore();
}

} // namespace parley::desktop
