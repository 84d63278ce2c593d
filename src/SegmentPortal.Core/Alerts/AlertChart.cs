using SkiaSharp;

namespace SegmentPortal.Core.Alerts;

/// <summary>
/// The small trend chart of an alert email: the figure's recent periods as a line, the threshold or band as dashed
/// lines, the current value as a dot (red when the alert fired). Drawn with SkiaSharp into a PNG, since mail readers
/// show images but not scripts or SVG.
/// </summary>
internal static class AlertChart
{
    public const int Width = 480;
    public const int Height = 140;

    public static byte[]? Png(IReadOnlyList<double?> values, AlertBand? band, bool firing)
    {
        var points = values.Select((v, i) => (Index: i, Value: v)).Where(p => p.Value is { } x && double.IsFinite(x)).ToList();
        if (points.Count < 2)
        {
            return null;
        }
        var all = points.Select(p => p.Value!.Value).Concat(new[] { band?.Low, band?.High }.OfType<double>().Where(double.IsFinite)).ToList();
        var (min, max) = (all.Min(), all.Max());
        if (max - min < 1e-12)
        {
            (min, max) = (min - 1, max + 1);
        }
        var pad = (max - min) * 0.1;
        (min, max) = (min - pad, max + pad);
        const float left = 8, right = 12, top = 10, bottom = 10;
        float X(int index) => left + (Width - left - right) * index / (float)Math.Max(1, values.Count - 1);
        float Y(double value) => (float)(top + (Height - top - bottom) * (1 - (value - min) / (max - min)));

        using var bitmap = new SKBitmap(Width, Height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var dashed = new SKPaint
        {
            Color = new SKColor(0x9e, 0x9e, 0x9e),
            StrokeWidth = 1.5f,
            IsAntialias = true,
            Style = SKPaintStyle.Stroke,
            PathEffect = SKPathEffect.CreateDash([6, 4], 0),
        };
        foreach (var limit in new[] { band?.Low, band?.High }.OfType<double>().Where(double.IsFinite))
        {
            canvas.DrawLine(left, Y(limit), Width - right, Y(limit), dashed);
        }
        using var line = new SKPaint { Color = new SKColor(0x59, 0x4a, 0xe2), StrokeWidth = 2.5f, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var builder = new SKPathBuilder();
        builder.MoveTo(X(points[0].Index), Y(points[0].Value!.Value));
        foreach (var (index, value) in points.Skip(1))
        {
            builder.LineTo(X(index), Y(value!.Value));
        }
        using var path = builder.Detach();
        canvas.DrawPath(path, line);
        var last = points[^1];
        using var dot = new SKPaint { Color = firing ? new SKColor(0xd3, 0x2f, 0x2f) : new SKColor(0x2e, 0x7d, 0x32), IsAntialias = true, Style = SKPaintStyle.Fill };
        canvas.DrawCircle(X(last.Index), Y(last.Value!.Value), 5, dot);
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
