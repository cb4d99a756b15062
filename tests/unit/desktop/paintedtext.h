// paintedTexts(): what a widget actually paints as text, read from the paint calls themselves.
//
// The widget is rendered (QWidget::render) onto a paint device whose engine keeps every text run
// it is asked to draw, with where it lands. Nothing of the widget is replaced: its paintEvent, its
// delegates and their caches run as they do on screen; only the pixels are not produced.
#pragma once

#include <QPaintDevice>
#include <QPaintEngine>
#include <QPainterPath>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <QTransform>
#include <QWidget>

namespace parley::desktop::test {

//! A run of text drawn by a widget: the text and the point it was drawn at, in the widget's
//! coordinates (the painter's transformations applied).
struct PaintedText {
    QString text;
    QPointF position;
};

namespace detail {

class TextRecordingEngine : public QPaintEngine {
public:
    TextRecordingEngine()
        : QPaintEngine(QPaintEngine::AllFeatures)
    {
    }

    bool begin(QPaintDevice*) override { return true; }
    bool end() override { return true; }
    Type type() const override { return QPaintEngine::User; }
    void updateState(const QPaintEngineState& state) override
    {
        if (state.state() & QPaintEngine::DirtyTransform) {
            m_transform = state.transform();
        }
    }
    void drawTextItem(const QPointF& p, const QTextItem& item) override
    {
        texts.append(PaintedText { item.text(), m_transform.map(p) });
    }
    // Shapes and images carry no text: nothing to keep.
    void drawPixmap(const QRectF&, const QPixmap&, const QRectF&) override { }
    void drawImage(const QRectF&, const QImage&, const QRectF&, Qt::ImageConversionFlags) override
    {
    }
    void drawPath(const QPainterPath&) override { }
    void drawPolygon(const QPointF*, int, PolygonDrawMode) override { }
    void drawPolygon(const QPoint*, int, PolygonDrawMode) override { }

    QList<PaintedText> texts;

private:
    QTransform m_transform;
};

class TextRecordingDevice : public QPaintDevice {
public:
    explicit TextRecordingDevice(const QWidget& like)
        : m_size(like.size())
        , m_dpiX(like.logicalDpiX())
        , m_dpiY(like.logicalDpiY())
    {
    }
    ~TextRecordingDevice() override = default;

    QPaintEngine* paintEngine() const override { return &m_engine; }
    QList<PaintedText> texts() const { return m_engine.texts; }

protected:
    int metric(PaintDeviceMetric metric) const override
    {
        switch (metric) {
        case PdmWidth:
            return m_size.width();
        case PdmHeight:
            return m_size.height();
        case PdmWidthMM:
            return m_size.width() * 254 / (10 * m_dpiX);
        case PdmHeightMM:
            return m_size.height() * 254 / (10 * m_dpiY);
        case PdmNumColors:
            return 0x7fffffff;
        case PdmDepth:
            return 32;
        case PdmDpiX:
        case PdmPhysicalDpiX:
            return m_dpiX;
        case PdmDpiY:
        case PdmPhysicalDpiY:
            return m_dpiY;
        case PdmDevicePixelRatio:
            return 1;
        case PdmDevicePixelRatioScaled:
            return int(devicePixelRatioFScale());
        }
        return 0;
    }

private:
    mutable TextRecordingEngine m_engine;
    QSize m_size;
    int m_dpiX;
    int m_dpiY;
};

} // namespace detail

//! Paints `widget` (and its children) once, as it would paint on screen, and returns the text
//! runs it drew, in drawing order.
inline QList<PaintedText> paintedTexts(QWidget& widget)
{
    detail::TextRecordingDevice device(widget);
    widget.render(&device, QPoint(), QRegion(), QWidget::DrawChildren);
    return device.texts();
}

//! The text `widget` paints inside `rect` (its coordinates): the runs whose origin lies in it,
//! joined in drawing order.
inline QString paintedTextIn(const QList<PaintedText>& texts, const QRect& rect)
{
    QString joined;
    for (const auto& run : texts) {
        if (rect.contains(run.position.toPoint())) {
            joined += run.text;
        }
    }
    return joined;
}

} // namespace parley::desktop::test
