using Bunit;
using SegmentPortal.Web.Components.Dashboards.Tiles;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Dashboards;

/// <summary>Text tiles: the Markdown subset, and that nothing in it can become markup or a script link.</summary>
public sealed class MarkdownTests : PortalTestContext
{
    [Fact]
    public void Headings_lists_paragraphs_and_inline_styles_become_elements()
    {
        var cut = Render<MarkdownView>(p => p.Add(m => m.Source, """
            # Weekly notes
            Sales are **up** and returns are *down*; see `orders_v2`.

            - First point
            - Second with [the report](https://example.com/report?q=1)

            1. One
            2. Two
            """));

        Assert.Equal("Weekly notes", cut.Find("h4").TextContent);
        Assert.Equal("up", cut.Find("p strong").TextContent);
        Assert.Equal("down", cut.Find("p em").TextContent);
        Assert.Equal("orders_v2", cut.Find("p code").TextContent);
        Assert.Equal(2, cut.FindAll("ul li").Count);
        Assert.Equal(2, cut.FindAll("ol li").Count);
        var link = cut.Find("ul a");
        Assert.Equal("https://example.com/report?q=1", link.GetAttribute("href"));
        Assert.Equal("noopener noreferrer nofollow", link.GetAttribute("rel"));
        Assert.Equal("the report", link.TextContent);
    }

    [Fact]
    public void Html_in_the_text_shows_as_typed_and_never_becomes_an_element()
    {
        var cut = Render<MarkdownView>(p => p.Add(m => m.Source,
            "<script>alert('x')</script>\n\n**<img src=x onerror=alert(1)>**\n\n<a href=\"javascript:alert(1)\">hi</a>"));

        Assert.Empty(cut.FindAll("script"));
        Assert.Empty(cut.FindAll("img"));
        Assert.Empty(cut.FindAll("a"));
        Assert.Contains("<script>alert('x')</script>", cut.Find("[data-testid=tile-markdown]").TextContent);
        Assert.Contains("&lt;script&gt;", cut.Markup);
        Assert.DoesNotContain("<script", cut.Markup);
    }

    [Theory]
    [InlineData("[click](javascript:alert(1))")]
    [InlineData("[click](JavaScript:alert(document.cookie))")]
    [InlineData("[click](data:text/html;base64,PHNjcmlwdD4=)")]
    [InlineData("[click](vbscript:msgbox)")]
    [InlineData("[click](/relative/path)")]
    [InlineData("[click]( javascript:alert(1) )")]
    public void Links_other_than_http_or_https_keep_their_text_and_lose_the_link(string source)
    {
        var cut = Render<MarkdownView>(p => p.Add(m => m.Source, source));

        Assert.Empty(cut.FindAll("a"));
        Assert.Equal("click", cut.Find("p").TextContent);
        Assert.DoesNotContain("javascript", cut.Markup, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_parser_keeps_snake_case_and_escaped_stars_as_typed()
    {
        var blocks = Markdown.Parse(@"customer_first_order and 2 \* 3 = 6");

        var paragraph = Assert.IsType<MarkdownParagraph>(Assert.Single(blocks));
        Assert.Equal("customer_first_order and 2 * 3 = 6", Assert.IsType<MarkdownText>(Assert.Single(paragraph.Content)).Text);
    }

    [Fact]
    public void Emphasis_nests_inside_bold()
    {
        var inlines = Markdown.Inlines("**very *much* so**");

        var strong = Assert.IsType<MarkdownStrong>(Assert.Single(inlines));
        Assert.Equal("much", Markdown.Plain([Assert.IsType<MarkdownEmphasis>(strong.Content[1])]));
    }

    [Fact]
    public void Only_absolute_web_addresses_are_safe()
    {
        Assert.NotNull(Markdown.SafeAddress("http://example.com"));
        Assert.NotNull(Markdown.SafeAddress("https://example.com/a?b=c"));
        Assert.Null(Markdown.SafeAddress("javascript:alert(1)"));
        Assert.Null(Markdown.SafeAddress("ftp://example.com"));
        Assert.Null(Markdown.SafeAddress("//example.com"));
    }
}
