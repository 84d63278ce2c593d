using Bunit;
using MudBlazor;
using SegmentPortal.Web.Components.Layout;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Layout;

public sealed class ThemeToggleTests : PortalTestContext
{
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Clicking_asks_for_the_other_mode(bool dark, bool expected)
    {
        var raised = new List<bool>();
        var cut = Render<ThemeToggle>(p => p
            .Add(x => x.Dark, dark)
            .Add(x => x.DarkChanged, v => raised.Add(v)));

        cut.Find("[data-testid=theme-toggle]").Click();

        Assert.Equal([expected], raised);
    }

    [Fact]
    public void In_light_mode_it_offers_dark_mode()
    {
        var cut = Render<ThemeToggle>(p => p.Add(x => x.Dark, false));

        var button = cut.Find("[data-testid=theme-toggle]");
        Assert.Equal("Switch to dark mode", button.GetAttribute("aria-label"));
        Assert.Equal(Icons.Material.Filled.DarkMode, cut.FindComponent<MudIconButton>().Instance.Icon);
    }

    [Fact]
    public void In_dark_mode_it_offers_light_mode()
    {
        var cut = Render<ThemeToggle>(p => p.Add(x => x.Dark, true));

        var button = cut.Find("[data-testid=theme-toggle]");
        Assert.Equal("Switch to light mode", button.GetAttribute("aria-label"));
        Assert.Equal(Icons.Material.Filled.LightMode, cut.FindComponent<MudIconButton>().Instance.Icon);
    }

    [Fact]
    public void Light_and_dark_modes_draw_different_icons()
    {
        var light = Render<ThemeToggle>(p => p.Add(x => x.Dark, false)).Find("[data-testid=theme-toggle] svg").InnerHtml;
        var dark = Render<ThemeToggle>(p => p.Add(x => x.Dark, true)).Find("[data-testid=theme-toggle] svg").InnerHtml;

        Assert.NotEqual(light, dark);
    }

    [Fact]
    public void Tooltip_says_what_a_click_does()
    {
        var cut = Render<ThemeToggle>(p => p.Add(x => x.Dark, true));

        Assert.Equal("Switch to light mode", cut.FindComponent<MudTooltip>().Instance.Text);
    }

    [Fact]
    public void Clicking_without_a_listener_does_nothing_harmful()
    {
        var cut = Render<ThemeToggle>(p => p.Add(x => x.Dark, false));

        cut.Find("[data-testid=theme-toggle]").Click();

        Assert.Equal("Switch to dark mode", cut.Find("[data-testid=theme-toggle]").GetAttribute("aria-label"));
    }
}
