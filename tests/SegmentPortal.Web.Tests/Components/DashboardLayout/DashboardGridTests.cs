using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Web.Components.Dashboards;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.DashboardLayout;

public sealed class DashboardGridTests : PortalTestContext
{
    private static readonly IReadOnlyList<TileLayout> Board = [new("a", 0, 0, 6, 2), new("b", 6, 0, 6, 2)];

    private IRenderedComponent<DashboardGrid> RenderGrid(bool editable, Action<IReadOnlyList<TileLayout>>? changed = null) =>
        Render<DashboardGrid>(p => p
            .Add(g => g.Layouts, Board)
            .Add(g => g.Editable, editable)
            .Add(g => g.Titles, new Dictionary<string, string> { ["a"] = "Revenue", ["b"] = "Orders" })
            .Add(g => g.LayoutChanged, l => changed?.Invoke(l))
            .Add(g => g.Tile, (RenderFragment<TileLayout>)(l => b => b.AddContent(0, $"tile {l.TileId}"))));

    [Fact]
    public void Tiles_sit_on_the_twelve_column_grid()
    {
        var cut = RenderGrid(editable: false);

        var tiles = cut.FindAll("[data-testid=dashboard-tile]");
        Assert.Equal(2, tiles.Count);
        Assert.Contains("grid-column:7 / span 6", tiles[1].GetAttribute("style"));
        Assert.Empty(cut.FindAll("[data-testid=tile-handle]"));
    }

    [Fact]
    public void Arrow_keys_on_a_handle_move_the_tile_and_shift_arrows_resize_it()
    {
        IReadOnlyList<TileLayout>? changed = null;
        var cut = RenderGrid(editable: true, l => changed = l);
        var handle = cut.FindAll("[data-testid=tile-handle]")[0];
        Assert.Contains("Move or resize Revenue", handle.GetAttribute("aria-label"));

        handle.KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "ArrowDown" });
        Assert.Equal(new TileLayout("a", 0, 1, 6, 2), changed!.Single(l => l.TileId == "a"));

        cut.FindAll("[data-testid=tile-handle]")[0].KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "ArrowRight", ShiftKey = true });
        var resized = changed!.Single(l => l.TileId == "a");
        Assert.Equal((7, 2), (resized.W, resized.H));
        // b was in the way of the wider tile, so it moved below it.
        Assert.Equal(2, changed!.Single(l => l.TileId == "b").Y);
    }

    [Fact]
    public async Task Leaving_the_board_while_the_grid_script_loads_does_not_wire_up_a_disposed_grid()
    {
        // On a busy server the browser answers the script import late; the user may have left the page by then.
        var browser = new SlowScriptBrowser();
        Services.AddSingleton<IJSRuntime>(browser);
        var cut = RenderGrid(editable: true);
        Assert.True(browser.Imported);
        await DisposeComponentsAsync();

        await cut.InvokeAsync(() => browser.Import.SetResult(browser.Module));

        // Wiring up a disposed grid would hand the browser a disposed .NET reference (an error on the page).
        Assert.Empty(browser.Module.Calls);
    }

    /// <summary>A browser whose script import answers only when the test says so; its module records its calls.</summary>
    private sealed class SlowScriptBrowser : IJSRuntime
    {
        public TaskCompletionSource<IJSObjectReference> Import { get; } = new(TaskCreationOptions.None);

        public RecordingModule Module { get; } = new();

        public bool Imported { get; private set; }

        public async ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args)
        {
            if (identifier != "import")
            {
                return default!;
            }
            Imported = true;
            return (TValue)await Import.Task;
        }

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            InvokeAsync<TValue>(identifier, args);
    }

    /// <summary>A script module that only records what it was asked to do.</summary>
    private sealed class RecordingModule : IJSObjectReference
    {
        public List<string> Calls { get; } = [];

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args)
        {
            Calls.Add(identifier);
            return ValueTask.FromResult(default(TValue)!);
        }

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            InvokeAsync<TValue>(identifier, args);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
