using SegmentPortal.Core.Dashboards;
using SegmentPortal.Core.Queries;
using SegmentPortal.Core.Rules;

namespace SegmentPortal.Tests.Dashboards;

/// <summary>
/// The result cache is keyed by the effective query: a user's row filters are compiled into it, so two users with
/// different rows never share a tile's cached result, and a refreshed dataset is read again.
/// </summary>
public sealed class TileCacheKeyTests
{
    private static readonly TileDefinition Tile = new()
    {
        Id = "t",
        Type = TileType.Bar,
        DatasetId = 1,
        Dimensions = [new TileDimension("city")],
        Measures = [new TileMeasure(TileMeasureKind.Customers)],
    };

    private static string Key(string region, DateTimeOffset version)
    {
        var dataset = TileQueryBuilderTests.Customers with
        {
            Version = version,
            RowFilter = new RuleGroup { Children = [new FieldCondition { Field = "region", Operator = RuleOperator.In, Values = [region] }] },
        };
        var spec = new TileQueryBuilder(Tile, dataset, new TileContext { Today = new DateOnly(2024, 6, 15) }).Grouped();
        var context = new CompileContext { Dataset = dataset, Today = new DateOnly(2024, 6, 15) };
        return QueryExecutor.CacheKey(QueryCompiler.Compile(spec, context));
    }

    [Fact]
    public void Row_filters_for_other_rows_give_another_cache_key()
    {
        var version = DateTimeOffset.UnixEpoch;

        Assert.Equal(Key("North", version), Key("North", version));
        Assert.NotEqual(Key("North", version), Key("South", version));
    }

    [Fact]
    public void A_refreshed_dataset_gives_another_cache_key()
    {
        Assert.NotEqual(Key("North", DateTimeOffset.UnixEpoch), Key("North", DateTimeOffset.UnixEpoch.AddMinutes(1)));
    }
}
