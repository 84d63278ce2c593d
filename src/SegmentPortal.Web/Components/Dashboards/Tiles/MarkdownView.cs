using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace SegmentPortal.Web.Components.Dashboards.Tiles;

/// <summary>
/// Draws <see cref="Markdown"/> as elements whose text Blazor encodes: no markup string is ever emitted, so HTML in
/// the source cannot run. Headings start at h4, below the tile's own title.
/// </summary>
public sealed class MarkdownView : ComponentBase
{
    private IReadOnlyList<MarkdownBlock> _blocks = [];

    [Parameter, EditorRequired]
    public required string? Source { get; set; }

    protected override void OnParametersSet() => _blocks = Markdown.Parse(Source);

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        builder.OpenElement(0, "div");
        builder.AddAttribute(1, "class", "tile-markdown");
        builder.AddAttribute(2, "data-testid", "tile-markdown");
        foreach (var block in _blocks)
        {
            Block(builder, block);
        }
        builder.CloseElement();
    }

    private static void Block(RenderTreeBuilder builder, MarkdownBlock block)
    {
        switch (block)
        {
            case MarkdownHeading heading:
                builder.OpenElement(10, $"h{Math.Min(6, heading.Level + 3)}");
                builder.AddAttribute(11, "class", $"md-h{heading.Level}");
                Inlines(builder, heading.Content);
                builder.CloseElement();
                break;
            case MarkdownParagraph paragraph:
                builder.OpenElement(20, "p");
                Inlines(builder, paragraph.Content);
                builder.CloseElement();
                break;
            case MarkdownList list:
                builder.OpenElement(30, list.Ordered ? "ol" : "ul");
                foreach (var item in list.Items)
                {
                    builder.OpenElement(31, "li");
                    Inlines(builder, item);
                    builder.CloseElement();
                }
                builder.CloseElement();
                break;
            case MarkdownRule:
                builder.OpenElement(40, "hr");
                builder.CloseElement();
                break;
        }
    }

    private static void Inlines(RenderTreeBuilder builder, IReadOnlyList<MarkdownInline> inlines)
    {
        foreach (var inline in inlines)
        {
            switch (inline)
            {
                case MarkdownText text:
                    builder.AddContent(50, text.Text);
                    break;
                case MarkdownCode code:
                    builder.OpenElement(51, "code");
                    builder.AddContent(52, code.Text);
                    builder.CloseElement();
                    break;
                case MarkdownStrong strong:
                    builder.OpenElement(53, "strong");
                    Inlines(builder, strong.Content);
                    builder.CloseElement();
                    break;
                case MarkdownEmphasis emphasis:
                    builder.OpenElement(54, "em");
                    Inlines(builder, emphasis.Content);
                    builder.CloseElement();
                    break;
                case MarkdownLink link:
                    builder.OpenElement(55, "a");
                    builder.AddAttribute(56, "href", link.Href.AbsoluteUri);
                    builder.AddAttribute(57, "target", "_blank");
                    builder.AddAttribute(58, "rel", "noopener noreferrer nofollow");
                    Inlines(builder, link.Content);
                    builder.CloseElement();
                    break;
            }
        }
    }
}
