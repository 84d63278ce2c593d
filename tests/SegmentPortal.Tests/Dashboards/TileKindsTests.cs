using SegmentPortal.Core.Access;
using SegmentPortal.Core;
using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Web.Components.Dashboards;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>
/// The server's checks (<see cref="TileValidator"/>) and the tile editor (<see cref="TileDraft"/>) take the numbers of
/// dimensions and measures each tile type allows from one place, so they cannot drift apart.
/// </summary>
public sealed class TileKindsTests
{
    /// <summary>Orders with a customer key, a date, an amount and a category: every type's fields are there.</summary>
    private static readonly QueryDataset Orders = TileQueryBuilderTests.Orders;

    public static TheoryData<TileType> Types() => new(Enum.GetValues<TileType>());

    /// <summary>
    /// A tile of the type with <paramref name="dimensions"/> groupings and <paramref name="measures"/> measures, and
    /// everything else the type needs set right, so only the counts can make the validator refuse it.
    /// </summary>
    private static TileDefinition Tile(TileType type, int dimensions, int measures) => new()
    {
        Id = "t",
        Type = type,
        DatasetId = Orders.Id,
        Dimensions = Enumerable.Repeat(new TileDimension(type == TileType.Histogram ? "amount" : "category"), dimensions).ToList(),
        Measures = Enumerable.Repeat(new TileMeasure(TileMeasureKind.Sum, "amount"), measures).ToList(),
        Markdown = type == TileType.Text ? "Notes" : null,
        SegmentIds = type switch
        {
            TileType.CompareSegments => [1, 2],
            TileType.SegmentSize => [1],
            _ => [],
        },
        SourceId = type is TileType.RfmGrid or TileType.ClusterProfile or TileType.LifecycleStages or TileType.ClvDistribution or TileType.AliveMatrix
            or TileType.SurvivalCurves
            ? 1
            : null,
    };

    private static bool ValidatorAccepts(TileDefinition tile)
    {
        try
        {
            TileValidator.Validate(tile, Orders);
            return true;
        }
        catch (PortalException)
        {
            return false;
        }
    }

    /// <summary>Whether the editor, fitting a draft with these rows to the type, keeps them as they are.</summary>
    private static bool EditorKeeps(TileType type, int dimensions, int measures)
    {
        var draft = new TileDraft
        {
            Measures = Enumerable.Range(0, measures).Select(_ => new MeasureDraft { Kind = TileMeasureKind.Sum, Column = "amount" }).ToList(),
            Dimensions = Enumerable.Range(0, dimensions).Select(_ => new DimensionDraft { Column = "category" }).ToList(),
        };
        draft.FitTo(type);
        return draft.Measures.Count == measures && draft.Dimensions.Count == dimensions;
    }

    [Fact]
    public void Every_tile_type_has_exactly_one_kind()
    {
        Assert.Equal(Enum.GetValues<TileType>().Order(), TileKinds.All.Select(k => k.Type).Order());
        Assert.All(Enum.GetValues<TileType>(), type => Assert.Equal(type, TileKinds.Of(type).Type));
        Assert.Equal("Choose what the tile shows.", Assert.Throws<PortalException>(() => TileKinds.Of((TileType)999)).Message);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Every_kind_names_an_icon_and_a_label_of_its_own(TileType type)
    {
        var kind = TileKinds.Of(type);

        Assert.NotNull(TileIcons.Find(kind));
        Assert.Single(TileKinds.All, k => k.Label == kind.Label);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void The_validator_and_the_editor_agree_on_how_many_dimensions_and_measures_a_type_takes(TileType type)
    {
        var disagreements = new List<string>();
        for (var dimensions = 0; dimensions <= 6; dimensions++)
        {
            for (var measures = 0; measures <= TileValidator.MaxMeasures + 1; measures++)
            {
                var validator = ValidatorAccepts(Tile(type, dimensions, measures));
                var editor = EditorKeeps(type, dimensions, measures);
                if (validator != editor)
                {
                    disagreements.Add($"{dimensions} dimensions, {measures} measures: validator {(validator ? "accepts" : "refuses")}, editor {(editor ? "keeps" : "changes")}");
                }
            }
        }

        Assert.Empty(disagreements);
    }
}
