// Avatar: the colour and round badge that identify a user at a glance.
#pragma once

#include <QColor>
#include <QPalette>
#include <QRect>
#include <QString>

class QPainter;

namespace parley::desktop {

//! A user's colour is derived from the name (stable across runs and clients) and adjusted to the
//! palette so it reads on light and dark backgrounds alike.
class Avatar {
public:
    //! The user's hue, 0..359.
    static int hue(const QString& user);
    //! The colour for the user's name in text.
    static QColor nameColor(const QString& user, const QPalette& palette);
    //! Paints a filled circle with the user's initial into `rect`.
    static void paint(
        QPainter* painter, const QRect& rect, const QString& user, const QPalette& palette);
};

} // namespace parley::desktop
