namespace SegmentPortal.Core.Analysis.Lifetime;

/// <summary>
/// Every customer's purchase days (several purchases on one day count once, their amounts summed), folded into what the
/// models read: per customer the first and last day, the number of purchase days and the spend, for the calibration
/// period and for all of the data. Days are day numbers (<see cref="DateOnly.DayNumber"/>).
/// </summary>
internal sealed class PurchaseDays
{
    private readonly Dictionary<object, int> _index = [];
    private readonly List<object> _keys = [];
    private readonly List<int> _first = [];
    private readonly List<double> _firstSpend = [];
    private readonly List<int> _last = [];
    private readonly List<int> _days = [];
    private readonly List<double> _spend = [];
    private readonly List<int> _rowCustomer = [];
    private readonly List<int> _rowDay = [];
    private readonly List<double> _rowSpend = [];

    public int Customers => _keys.Count;

    public IReadOnlyList<object> Keys => _keys;

    public int FirstDay { get; private set; } = int.MaxValue;

    public int LastDay { get; private set; } = int.MinValue;

    /// <summary>One customer's purchase day and what they spent on it (each pair once).</summary>
    public void Add(object key, int day, double spend)
    {
        if (!double.IsFinite(spend))
        {
            spend = 0;
        }
        if (!_index.TryGetValue(key, out var i))
        {
            i = _keys.Count;
            _index[key] = i;
            _keys.Add(key);
            _first.Add(day);
            _firstSpend.Add(spend);
            _last.Add(day);
            _days.Add(0);
            _spend.Add(0);
        }
        else if (day < _first[i])
        {
            _first[i] = day;
            _firstSpend[i] = spend;
        }
        if (day > _last[i])
        {
            _last[i] = day;
        }
        _days[i]++;
        _spend[i] += spend;
        _rowCustomer.Add(i);
        _rowDay.Add(day);
        _rowSpend.Add(spend);
        FirstDay = Math.Min(FirstDay, day);
        LastDay = Math.Max(LastDay, day);
    }

    /// <summary>
    /// Every customer over all the data up to <paramref name="end"/> (the last day): x = purchase days − 1, t_x = last −
    /// first, T = end − first, in units of <paramref name="daysPerUnit"/> days; mean spend of the repeat purchase days
    /// (0 without one).
    /// </summary>
    public (CustomerHistory[] Histories, double[] MeanRepeatSpend) All(int end, double daysPerUnit)
    {
        var histories = new CustomerHistory[Customers];
        var spend = new double[Customers];
        for (var i = 0; i < Customers; i++)
        {
            var x = _days[i] - 1;
            histories[i] = new CustomerHistory(x, (_last[i] - _first[i]) / daysPerUnit, (end - _first[i]) / daysPerUnit);
            spend[i] = x > 0 ? (_spend[i] - _firstSpend[i]) / x : 0;
        }
        return (histories, spend);
    }

    /// <summary>
    /// The calibration cohort: customers whose first purchase is on or before <paramref name="calibrationEnd"/>, summarised
    /// over the days up to it, with the purchase days each made after it (up to the last day), and the cohort's
    /// cumulative repeat purchases at the end of each <paramref name="stepDays"/>-day step from the first day of the data.
    /// </summary>
    public Calibration Calibrate(int calibrationEnd, double daysPerUnit, int stepDays)
    {
        var cohort = new List<int>();
        var position = new int[Customers];
        Array.Fill(position, -1);
        for (var i = 0; i < Customers; i++)
        {
            if (_first[i] <= calibrationEnd)
            {
                position[i] = cohort.Count;
                cohort.Add(i);
            }
        }
        var days = new int[cohort.Count];
        var last = new int[cohort.Count];
        var spend = new double[cohort.Count];
        var holdout = new double[cohort.Count];
        // Whole steps only (a partial last week would compare a week's expectation with a few days' purchases).
        var steps = Math.Max(1, (LastDay - FirstDay + 1) / stepDays);
        var repeatsPerStep = new double[steps];
        for (var r = 0; r < _rowCustomer.Count; r++)
        {
            var p = position[_rowCustomer[r]];
            if (p < 0)
            {
                continue;
            }
            var day = _rowDay[r];
            var customer = cohort[p];
            if (day != _first[customer] && (day - FirstDay) / stepDays < steps)
            {
                repeatsPerStep[(day - FirstDay) / stepDays]++;
            }
            if (day <= calibrationEnd)
            {
                days[p]++;
                spend[p] += _rowSpend[r];
                last[p] = Math.Max(last[p], day);
            }
            else
            {
                holdout[p]++;
            }
        }
        var histories = new CustomerHistory[cohort.Count];
        var meanRepeatSpend = new double[cohort.Count];
        var firstTimes = new double[cohort.Count];
        for (var p = 0; p < cohort.Count; p++)
        {
            var i = cohort[p];
            var x = days[p] - 1;
            histories[p] = new CustomerHistory(x, (last[p] - _first[i]) / daysPerUnit, (calibrationEnd - _first[i]) / daysPerUnit);
            meanRepeatSpend[p] = x > 0 ? (spend[p] - _firstSpend[i]) / x : 0;
            firstTimes[p] = (_first[i] - FirstDay) / daysPerUnit;
        }
        var cumulative = new double[steps];
        for (var s = 0; s < steps; s++)
        {
            cumulative[s] = (s > 0 ? cumulative[s - 1] : 0) + repeatsPerStep[s];
        }
        return new Calibration(histories, meanRepeatSpend, holdout, firstTimes, cumulative);
    }
}

/// <summary>The calibration cohort's summaries, holdout purchase days, first purchase times (units since the data's first day) and cumulative repeat purchases per step.</summary>
internal sealed record Calibration(CustomerHistory[] Histories, double[] MeanRepeatSpend, double[] HoldoutPurchases, double[] FirstTimes, double[] CumulativeRepeats);
