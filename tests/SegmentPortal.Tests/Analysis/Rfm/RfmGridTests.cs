using SegmentPortal.Core;
using SegmentPortal.Core.Analysis.Rfm;
using static SegmentPortal.Core.Analysis.Rfm.RfmGroups;

namespace SegmentPortal.Tests.Analysis.Rfm;

public sealed class RfmGridTests
{
    public static TheoryData<int, int, string> DefaultCells => new()
    {
        { 5, 5, Champions }, { 5, 4, Champions }, { 5, 3, PotentialLoyalists }, { 5, 2, PotentialLoyalists }, { 5, 1, New },
        { 4, 5, Loyal }, { 4, 4, Loyal }, { 4, 3, PotentialLoyalists }, { 4, 2, PotentialLoyalists }, { 4, 1, Promising },
        { 3, 5, Loyal }, { 3, 4, Loyal }, { 3, 3, NeedAttention }, { 3, 2, AboutToSleep }, { 3, 1, AboutToSleep },
        { 2, 5, CannotLoseThem }, { 2, 4, AtRisk }, { 2, 3, AtRisk }, { 2, 2, Hibernating }, { 2, 1, Hibernating },
        { 1, 5, CannotLoseThem }, { 1, 4, AtRisk }, { 1, 3, AtRisk }, { 1, 2, Lost }, { 1, 1, Lost },
    };

    [Theory]
    [MemberData(nameof(DefaultCells))]
    public void The_default_grid_puts_each_cell_in_the_standard_group(int r, int f, string group) =>
        Assert.Equal(group, RfmGrid.Default.GroupAt(r, f));

    [Fact]
    public void The_default_grid_is_valid_with_one_cell_per_score_pair()
    {
        Assert.Empty(RfmGrid.Default.Problems());
        Assert.Equal(25, RfmGrid.Default.Cells.Select(c => (c.R, c.F)).Distinct().Count());
    }

    [Fact]
    public void The_standard_groups_come_in_the_standard_order_each_with_a_description_and_an_action()
    {
        Assert.Equal(
            [Champions, Loyal, PotentialLoyalists, New, Promising, NeedAttention, AboutToSleep, AtRisk, CannotLoseThem, Hibernating, Lost],
            RfmGroups.Standard.Select(g => g.Name));
        Assert.All(RfmGroups.Standard, g =>
        {
            Assert.False(string.IsNullOrWhiteSpace(g.Description));
            Assert.False(string.IsNullOrWhiteSpace(g.Action));
        });
        Assert.Equal("Used to buy often, but not for a long time.", RfmGroups.Standard.Single(g => g.Name == AtRisk).Description);
        Assert.Same(RfmGroups.Standard, RfmGrid.Default.Groups);
    }

    [Fact]
    public void Every_standard_group_has_at_least_one_cell_in_the_default_grid() =>
        Assert.All(RfmGroups.Standard, g => Assert.Contains(RfmGrid.Default.Cells, c => c.Group == g.Name));

    [Fact]
    public void An_edited_cell_changes_that_cell_only()
    {
        var edited = RfmGrid.Default.With(5, 1, Promising);

        Assert.Equal(Promising, edited.GroupAt(5, 1));
        Assert.Equal(New, RfmGrid.Default.GroupAt(5, 1));
        Assert.Empty(edited.Problems());
        Assert.Equal(24, edited.Cells.Count(c => c.Group == RfmGrid.Default.GroupAt(c.R, c.F)));
    }

    [Fact]
    public void An_edited_grid_changes_the_group_customers_are_put_in()
    {
        var thresholds = RfmSettings.Default
            .With(RfmDimension.Recency, RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultRecency))
            .With(RfmDimension.Frequency, RfmDimensionScoring.Thresholds(RfmCutPoints.DefaultFrequency));
        RfmCustomer[] customers = [new("a", 400, 1, 10), new("b", 1, 9, 900)];

        var before = RfmAnalysis.Analyze(customers, thresholds);
        var after = RfmAnalysis.Analyze(customers, thresholds with { Grid = RfmGrid.Default.With(1, 1, AtRisk) });

        Assert.Equal(Lost, before.Customers[0].Group);
        Assert.Equal(AtRisk, after.Customers[0].Group);
        Assert.Equal(AtRisk, after.Heatmap.Groups[0][0]);
    }

    [Fact]
    public void The_grid_survives_a_json_round_trip()
    {
        var edited = RfmGrid.Default.With(3, 3, AtRisk) with
        {
            Groups = [.. RfmGroups.Standard, new RfmGroup("VIP", "Our best accounts.", "Call them.")],
        };
        edited = edited.With(5, 5, "VIP");

        var read = RfmGrid.FromJson(edited.ToJson());

        Assert.Equal(edited, read);
        Assert.NotEqual(RfmGrid.Default, read);
        Assert.Equal(edited.Groups, read.Groups);
        Assert.Equal(edited.Cells, read.Cells);
        Assert.Equal(RfmGrid.CurrentVersion, read.Version);
        Assert.Equal("VIP", read.GroupAt(5, 5));
        Assert.Equal(edited.ToJson(), read.ToJson());
    }

    [Fact]
    public void The_json_names_each_cell_by_its_scores()
    {
        var json = RfmGrid.Default.ToJson();

        Assert.Contains("""{"r":5,"f":1,"group":"New"}""", json);
        Assert.Contains("""{"name":"At risk","description":"Used to buy often, but not for a long time.",""", json);
    }

    [Fact]
    public void Empty_json_is_the_default_grid() => Assert.Same(RfmGrid.Default, RfmGrid.FromJson(" "));

    [Fact]
    public void A_cell_naming_a_group_that_is_not_in_the_list_is_refused()
    {
        var grid = RfmGrid.Default.With(2, 2, "Sleepers");

        Assert.Equal(["R 2, F 2 is in “Sleepers”, which is not one of the groups."], grid.Problems());
        Assert.Throws<PortalException>(() => RfmGrid.FromJson(grid.ToJson()));
        Assert.Throws<PortalException>(() => RfmAnalysis.Analyze([], RfmSettings.Default with { Grid = grid }));
    }

    [Fact]
    public void A_missing_cell_is_refused()
    {
        var grid = RfmGrid.Default with { Cells = [.. RfmGrid.Default.Cells.Where(c => (c.R, c.F) != (4, 2))] };

        Assert.Equal(["R 4, F 2 has no group."], grid.Problems());
    }

    [Fact]
    public void Several_missing_cells_are_one_problem()
    {
        var grid = RfmGrid.Default with { Cells = [.. RfmGrid.Default.Cells.Where(c => c.R != 1)] };

        Assert.Equal(["5 cells have no group: R 1, F 5; R 1, F 4; R 1, F 3; R 1, F 2; R 1, F 1."], grid.Problems());
    }

    [Fact]
    public void A_cell_given_twice_or_outside_the_grid_is_refused()
    {
        var grid = RfmGrid.Default with
        {
            Cells = [.. RfmGrid.Default.Cells, new RfmGridCell(3, 3, Lost), new RfmGridCell(6, 1, Lost), new RfmGridCell(1, 1, "")],
        };

        Assert.Equal(
            ["R 3, F 3 is given more than once.", "R 6, F 1 is outside the 5×5 grid.", "R 1, F 1 is given more than once."],
            grid.Problems());
    }

    [Fact]
    public void A_blank_cell_group_is_refused() =>
        Assert.Equal(["R 1, F 1 has no group."], RfmGrid.Default.With(1, 1, " ").Problems());

    [Fact]
    public void Groups_need_names_that_differ_beyond_case()
    {
        var grid = RfmGrid.Default with { Groups = [.. RfmGroups.Standard, new RfmGroup("lost", "", ""), new RfmGroup(" ", "", "")] };

        Assert.Equal(["There are two groups called “lost”.", "Group 13 has no name."], grid.Problems());
    }

    [Fact]
    public void A_grid_without_groups_is_refused() =>
        Assert.Contains("The grid needs at least one group.", (RfmGrid.Default with { Groups = [] }).Problems());

    [Theory]
    [InlineData("{ not json", "This is not an RFM grid in SegmentPortal's format")]
    [InlineData("null", "This RFM grid is empty.")]
    [InlineData("""{"groups":[{"name":"All","description":"","action":""}],"cells":[]}""", "25 cells have no group: R 5, F 5; R 5, F 4;")]
    [InlineData("""{"groups":[],"cells":[],"version":2}""", "This grid has version 2; this portal reads version 1.")]
    public void Unusable_json_is_refused_with_a_message_for_the_user(string json, string message)
    {
        var ex = Assert.Throws<PortalException>(() => RfmGrid.FromJson(json));

        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void A_one_group_grid_from_json_is_usable()
    {
        var cells = string.Join(",", from r in Enumerable.Range(1, 5) from f in Enumerable.Range(1, 5) select $$"""{"r":{{r}},"f":{{f}},"group":"All"}""");

        var grid = RfmGrid.FromJson($$"""{"groups":[{"name":"All","description":"Everyone.","action":"None."}],"cells":[{{cells}}]}""");

        Assert.Equal("All", grid.GroupAt(3, 4));
    }
}
