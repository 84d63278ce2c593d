using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using SegmentPortal.Core.Warehouse;
using SegmentPortal.Core;
using SegmentPortal.Core.Datasets;
using SegmentPortal.Core.Identity;
using SegmentPortal.Web.Components.Data;
using SegmentPortal.Web.Tests.Infrastructure;

namespace SegmentPortal.Web.Tests.Components.Data;

/// <summary>The Columns &amp; roles tab: every role can be chosen in the table and has its zone on the role board.</summary>
public sealed class ColumnEditorTests : PortalTestContext, IAsyncLifetime
{
    private PortalStore _store = null!;

    public async ValueTask InitializeAsync()
    {
        _store = Own(await PortalStore.CreateAsync());
        AddRealCore(_store);
    }

    /// <summary>The online-retail columns as imported, with the roles a user sets first.</summary>
    private static Dataset OnlineRetail() => new()
    {
        Id = 1, Name = "online-retail", TableName = "t_retail", RawTableName = "r_retail", Kind = DatasetKind.Transactions, Source = "Test",
        Columns =
        [
            Column(0, "InvoiceNo", ColumnType.Text, FieldRole.None),
            Column(1, "Quantity", ColumnType.Integer, FieldRole.Quantity),
            Column(2, "InvoiceDate", ColumnType.Timestamp, FieldRole.EventDate),
            Column(3, "UnitPrice", ColumnType.Decimal, FieldRole.Amount),
            Column(4, "CustomerID", ColumnType.Integer, FieldRole.CustomerId),
        ],
    };

    private static DatasetColumn Column(int ordinal, string name, ColumnType type, FieldRole role) =>
        new() { Ordinal = ordinal, Name = name, SourceName = name, Type = type, ImportType = type, WarehouseType = type.ToString(), Role = role };

    [Fact]
    public async Task Choosing_the_order_number_role_puts_the_column_in_its_own_zone_with_a_readable_label()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        var popovers = Render<MudPopoverProvider>();
        var cut = Render<ColumnEditor>(p => p.Add(x => x.Dataset, OnlineRetail()));
        IElement RoleSelect() => cut.Find("[aria-label='Role of InvoiceNo']").Closest(".mud-input-control")!;

        await RoleSelect().TriggerEventAsync("onmousedown", new MouseEventArgs());
        popovers.WaitForAssertion(() => Assert.NotEmpty(popovers.FindAll(".mud-list-item")));
        var options = popovers.FindAll(".mud-list-item").Select(i => i.TextContent.Trim()).ToList();
        Assert.Contains("Order / invoice number", options);
        Assert.DoesNotContain("OrderId", options);

        await popovers.FindAll(".mud-list-item").Single(i => i.TextContent.Trim() == "Order / invoice number").ClickAsync(new MouseEventArgs());

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=role-order] [data-testid=chip-InvoiceNo]")));
        Assert.Contains("Order / invoice number", RoleSelect().TextContent + RoleSelect().QuerySelector("input")?.GetAttribute("value"));
        Assert.Empty(cut.FindAll("[data-testid=role-none] [data-testid=chip-InvoiceNo]"));
        Assert.False(cut.Find("[data-testid=save-columns]").HasAttribute("disabled"));
    }

    [Fact]
    public void A_dataset_saved_with_an_order_number_shows_it_on_the_board()
    {
        SignInAs("analyst@example.com", Roles.Analyst);
        var dataset = OnlineRetail();
        dataset.Columns[0].Role = FieldRole.OrderId;

        var cut = Render<ColumnEditor>(p => p.Add(x => x.Dataset, dataset));

        Assert.NotNull(cut.Find("[data-testid=role-order] [data-testid=chip-InvoiceNo]"));
        Assert.Contains("Order / invoice number", cut.Find("[data-testid=role-order]").ParentElement!.TextContent);
    }
}
