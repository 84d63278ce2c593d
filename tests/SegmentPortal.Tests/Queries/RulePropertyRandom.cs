namespace SegmentPortal.Tests.Queries;

/// <summary>
/// A small seeded generator (SplitMix64) for the rule property test: the same seed gives the same data and the same
/// rule trees on every machine and every .NET version, so a failing seed can be replayed.
/// </summary>
public sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A whole number in [0, max).</summary>
    public int Next(int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        return (int)(NextUInt64() % (ulong)max);
    }

    /// <summary>A whole number in [min, max] (both inclusive).</summary>
    public int Between(int min, int max) => min + Next(max - min + 1);

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public bool Chance(double probability) => NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>Mixes a base seed with an index, so each tree has its own seed that can be replayed alone.</summary>
    public static ulong Derive(ulong seed, int index) => new SeededRandom(seed ^ (0xD1B54A32D192ED03UL * (ulong)(index + 1))).NextUInt64();
}
