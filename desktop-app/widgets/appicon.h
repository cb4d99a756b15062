// AppIcon: Parley's icon, drawn in code so no image plugin is needed.
#pragma once

#include <QIcon>
#include <QImage>

namespace parley::desktop {

//! Two overlapping speech bubbles on a rounded square. packaging/desktop/parley-desktop.png is
//! this drawing at 256 px.
class AppIcon {
public:
    //! The icon at the usual sizes (16 to 256 px).
    static QIcon icon();
    //! The drawing at `size` × `size` pixels.
    static QImage render(int size);
};

} // namespace parley::desktop
