using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using Plotly.Blazor;

namespace SegmentPortal.Web.Components.Shared.Charts;

/// <summary>
/// Plotly draws a subset of HTML (<c>&lt;b&gt;</c>, <c>&lt;a href&gt;</c>, styles) in every label, name, hover text and
/// title. Everything handed to Plotly passes through <see cref="Escape(IList{ITrace})"/> and
/// <see cref="Escape(Plotly.Blazor.Layout)"/> just before it is drawn, so text from the data shows as text.
/// <list type="bullet">
/// <item>Every string in the traces and the layout is escaped (<c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c>); Plotly turns
/// the entities back into the characters.</item>
/// <item>A line break (<c>\n</c>) becomes Plotly's <c>&lt;br&gt;</c>: the app writes multi-line hover text with
/// <c>\n</c>.</item>
/// <item>Templates (<c>HoverTemplate</c>, <c>TextTemplate</c>, their fallbacks…) are the app's own markup and are left as they are;
/// text from the data put into a template is escaped where the template is built (<see cref="Text"/>).</item>
/// </list>
/// </summary>
public static class PlotlyText
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    /// <summary>One string as Plotly text: escaped, line breaks as <c>&lt;br&gt;</c>.</summary>
    public static string Text(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal)
        .Replace("\r\n", "\n", StringComparison.Ordinal)
        .Replace("\n", "<br>", StringComparison.Ordinal);

    /// <summary>Escapes every string of the traces in place (templates excepted). Returns the same list.</summary>
    public static IList<ITrace> Escape(IList<ITrace> traces)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (var trace in traces)
        {
            Walk(trace, seen);
        }
        return traces;
    }

    /// <summary>Escapes every string of the layout in place (titles, tick labels, annotations). Returns the same layout.</summary>
    public static Plotly.Blazor.Layout Escape(Plotly.Blazor.Layout layout)
    {
        Walk(layout, new HashSet<object>(ReferenceEqualityComparer.Instance));
        return layout;
    }

    private static void Walk(object? value, HashSet<object> seen)
    {
        if (value is null or string || !seen.Add(value))
        {
            return;
        }
        if (value is IList list)
        {
            WalkList(list, seen);
            return;
        }
        if (!IsPlotlyObject(value.GetType()))
        {
            return;
        }
        foreach (var property in Properties.GetOrAdd(value.GetType(), Readable))
        {
            var current = property.GetValue(value);
            if (current is string text)
            {
                var escaped = Text(text);
                if (property.CanWrite && escaped != text)
                {
                    property.SetValue(value, escaped);
                }
            }
            else
            {
                Walk(current, seen);
            }
        }
    }

    private static void WalkList(IList list, HashSet<object> seen)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i] is string text)
            {
                var escaped = Text(text);
                if (escaped != text && !list.IsReadOnly)
                {
                    list[i] = escaped;
                }
            }
            else
            {
                Walk(list[i], seen);
            }
        }
    }

    private static bool IsPlotlyObject(Type type) => type.IsClass && type.Namespace?.StartsWith("Plotly.Blazor", StringComparison.Ordinal) == true;

    /// <summary>The properties that may hold text: templates are the app's own markup and are skipped.</summary>
    private static PropertyInfo[] Readable(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && !p.Name.Contains("Template", StringComparison.Ordinal)
            && (p.PropertyType == typeof(string) || p.PropertyType == typeof(object) || !p.PropertyType.IsValueType))
        .ToArray();
}
