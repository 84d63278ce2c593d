using Bunit;
using MudBlazor;
using SegmentPortal.Web.Components.Shared;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Shared;

public sealed class StatCardTests : PortalTestContext
{
    [Fact]
    public void Shows_the_label_and_the_value()
    {
        var cut = Render<StatCard>(p => p
            .Add(x => x.Label, "Customers")
            .Add(x => x.Value, "100,000")
            .Add(x => x.TestId, "stat-customers"));

        var card = cut.Find("[data-testid=stat-customers]");
        Assert.Contains("Customers", card.TextContent);
        Assert.Equal("100,000", card.QuerySelector(".stat-value")?.TextContent.Trim());
    }

    [Fact]
    public void Links_to_the_details_when_given_an_address()
    {
        var cut = Render<StatCard>(p => p
            .Add(x => x.Label, "Datasets")
            .Add(x => x.Value, "2")
            .Add(x => x.Href, "/data"));

        var link = cut.Find("a");
        Assert.Equal("/data", link.GetAttribute("href"));
        Assert.Equal("View", link.TextContent.Trim());
    }

    [Fact]
    public void Has_no_link_without_an_address()
    {
        var cut = Render<StatCard>(p => p.Add(x => x.Label, "Rows").Add(x => x.Value, "0"));

        Assert.Empty(cut.FindAll("a"));
    }

    [Fact]
    public void Shows_the_icon_it_is_given_or_an_info_icon()
    {
        var plain = Render<StatCard>(p => p.Add(x => x.Label, "Rows").Add(x => x.Value, "0"));
        var custom = Render<StatCard>(p => p.Add(x => x.Label, "Rows").Add(x => x.Value, "0").Add(x => x.Icon, Icons.Material.Outlined.TableRows));

        Assert.Equal(Icons.Material.Outlined.Info, plain.FindComponent<MudIcon>().Instance.Icon);
        Assert.Equal(Icons.Material.Outlined.TableRows, custom.FindComponent<MudIcon>().Instance.Icon);
    }
}
