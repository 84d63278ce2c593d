namespace SegmentPortal.Core.Connections;

/// <summary>
/// The first gate for a query used as a source: exactly one statement that starts with SELECT or WITH and names no
/// statement or function that changes data or the server. Comments, string literals and quoted names are read the way
/// the connection's database reads them, so nothing can hide inside them; anything this lexer is unsure about (nested
/// comments, PostgreSQL's U&amp; escapes, unterminated literals) is refused rather than guessed.
/// The second gate is the database itself: PostgreSQL runs the query in a READ ONLY transaction, SQLite opens the file
/// read-only, and for SQL Server the connection's login should only have read permissions.
/// </summary>
internal static class SelectValidator
{
    public const int MaxLength = 100_000;

    private static readonly HashSet<string> RefusedWords = new(StringComparer.OrdinalIgnoreCase)
    {
        // Change data or schema.
        "INTO", "INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE",
        "GRANT", "REVOKE", "DENY", "COPY", "ATTACH", "DETACH", "PRAGMA", "REINDEX", "VACUUM",
        // Run other code or statements (T-SQL needs no ';' between statements).
        "EXEC", "EXECUTE", "CALL", "DO", "PREPARE", "DEALLOCATE", "DECLARE", "SET", "USE",
        "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "LISTEN", "NOTIFY", "UNLISTEN",
        // Server administration (SQL Server).
        "SHUTDOWN", "KILL", "DBCC", "BACKUP", "RESTORE", "RECONFIGURE", "CHECKPOINT", "WAITFOR",
        "SETUSER", "REVERT", "WRITETEXT", "UPDATETEXT", "OPENROWSET", "OPENDATASOURCE", "OPENQUERY",
    };

    private static readonly string[] RefusedFunctionPrefixes = ["pg_", "xp_", "sp_", "lo_", "dblink"];

    private static readonly HashSet<string> RefusedFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "set_config", "nextval", "setval", "query_to_xml", "query_to_xml_and_xmlschema", "query_to_xmlschema",
        "cursor_to_xml", "cursor_to_xmlschema", "load_extension", "fts3_tokenizer",
    };

    /// <summary>
    /// Returns the query without its trailing semicolon (and anything after it), ready to run or to wrap; throws
    /// <see cref="QueryRejectedException"/> with the reason otherwise.
    /// </summary>
    public static string Validate(string? sql, ConnectionKind dialect)
    {
        if (string.IsNullOrWhiteSpace(sql))
        {
            throw new QueryRejectedException("Enter a SELECT query.");
        }
        if (sql.Length > MaxLength)
        {
            throw new QueryRejectedException($"The query is longer than {MaxLength:N0} characters.");
        }
        var tokens = new Lexer(sql, dialect).Tokenize();
        if (tokens.Count == 0)
        {
            throw new QueryRejectedException("Enter a SELECT query.");
        }
        var first = tokens[0];
        if (first.Kind != TokenKind.Word || !(Is(first, "SELECT") || Is(first, "WITH")))
        {
            throw new QueryRejectedException("Only a query that starts with SELECT or WITH can be used as a source.");
        }

        var end = sql.Length;
        var depth = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            switch (token.Kind)
            {
                case TokenKind.Semicolon when i == tokens.Count - 1:
                    end = token.Start;
                    break;
                case TokenKind.Semicolon:
                    throw new QueryRejectedException("Use a single statement: a ';' may only end the query.");
                case TokenKind.Open:
                    depth++;
                    break;
                case TokenKind.Close when --depth < 0:
                    throw new QueryRejectedException("The query has a ')' without a matching '('.");
                case TokenKind.Word when !token.Quoted && RefusedWords.Contains(token.Text):
                    throw new QueryRejectedException(
                        $"'{token.Text.ToUpperInvariant()}' is not allowed: a source query may only read data.");
                case TokenKind.Word when IsRefusedFunction(token.Text) && NextAfter(tokens, i) is { Kind: TokenKind.Open }:
                    throw new QueryRejectedException(
                        $"The function '{token.Text}' is not allowed in a source query.");
            }
        }
        if (depth != 0)
        {
            throw new QueryRejectedException("The query has a '(' without a matching ')'.");
        }
        return sql[..end].TrimEnd();
    }

    /// <summary>The token after <paramref name="i"/>'s word (the tails of a split word share its end).</summary>
    private static Token? NextAfter(List<Token> tokens, int i)
    {
        for (var j = i + 1; j < tokens.Count; j++)
        {
            if (tokens[j].Start >= tokens[i].End)
            {
                return tokens[j];
            }
        }
        return null;
    }

    private static bool Is(Token token, string word) => !token.Quoted && token.Text.Equals(word, StringComparison.OrdinalIgnoreCase);

    private static bool IsRefusedFunction(string name) =>
        RefusedFunctions.Contains(name) || RefusedFunctionPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    private enum TokenKind
    {
        Word,
        Open,
        Close,
        Semicolon,
        Literal,
        Other,
    }

    private readonly record struct Token(TokenKind Kind, string Text, bool Quoted, int Start, int End);

    /// <summary>Splits SQL into words and the punctuation that matters, skipping comments and literals.</summary>
    private sealed class Lexer(string sql, ConnectionKind dialect)
    {
        private readonly List<Token> _tokens = [];
        private int _pos;

        private bool Postgres => dialect == ConnectionKind.PostgreSql;

        public List<Token> Tokenize()
        {
            while (_pos < sql.Length)
            {
                var c = sql[_pos];
                var next = _pos + 1 < sql.Length ? sql[_pos + 1] : '\0';
                if (IsWhiteSpace(c))
                {
                    _pos++;
                }
                else if (c == '-' && next == '-')
                {
                    SkipLineComment();
                }
                else if (c == '/' && next == '*')
                {
                    SkipBlockComment();
                }
                else if (c == '\'')
                {
                    ReadString(escapes: false);
                }
                else if (c == '"')
                {
                    ReadQuotedName('"', '"');
                }
                else if (c == '[' && dialect != ConnectionKind.PostgreSql)
                {
                    ReadQuotedName('[', ']');
                }
                else if (c == '`' && dialect == ConnectionKind.Sqlite)
                {
                    ReadQuotedName('`', '`');
                }
                else if (c == '$' && Postgres && TryReadDollarQuote())
                {
                    // A $tag$...$tag$ string.
                }
                else if (IsWordChar(c, first: true))
                {
                    ReadWord();
                }
                else
                {
                    var kind = c switch
                    {
                        '(' => TokenKind.Open,
                        ')' => TokenKind.Close,
                        ';' => TokenKind.Semicolon,
                        _ => TokenKind.Other,
                    };
                    Add(kind, c.ToString(), quoted: false, _pos);
                    _pos++;
                }
            }
            return _tokens.Where(t => t.Kind != TokenKind.Other).ToList();
        }

        private void Add(TokenKind kind, string text, bool quoted, int start) => _tokens.Add(new Token(kind, text, quoted, start, _pos));

        // PostgreSQL reads only ASCII space, tab, newlines and form feeds as white space, and any other non-ASCII
        // character as part of a name; following it exactly matters for E'...' strings, whose backslash escapes change
        // where a string ends. Elsewhere anything that is not a letter, digit or one of these separates words, so a
        // keyword glued to an unusual character (a non-breaking space, say) is still seen as that keyword.
        private bool IsWhiteSpace(char c) => Postgres ? c is ' ' or '\t' or '\n' or '\r' or '\f' or '\v' : char.IsWhiteSpace(c);

        private bool IsWordChar(char c, bool first) => Postgres
            ? c >= '\u0080' || char.IsAsciiLetterOrDigit(c) || c == '_' || (!first && c == '$')
            : char.IsLetterOrDigit(c) || c == '_' || (!first && c == '$') || (dialect == ConnectionKind.SqlServer && c is '@' or '#');

        private void ReadWord()
        {
            var start = _pos;
            while (_pos < sql.Length && IsWordChar(sql[_pos], first: _pos == start))
            {
                _pos++;
            }
            var word = sql[start.._pos];
            if (_pos < sql.Length && sql[_pos] == '\'')
            {
                // Prefixed literals: E'...' (PostgreSQL escape string), N'...', B'...', X'...'.
                if (Postgres && word.Equals("E", StringComparison.OrdinalIgnoreCase))
                {
                    ReadString(escapes: true);
                    return;
                }
                if (word.Length == 1 && "NnBbXx".Contains(word[0], StringComparison.Ordinal))
                {
                    ReadString(escapes: false);
                    return;
                }
            }
            if (Postgres && word.Equals("U", StringComparison.OrdinalIgnoreCase) && _pos < sql.Length && sql[_pos] == '&')
            {
                throw new QueryRejectedException("PostgreSQL's U& escape syntax is not supported in source queries.");
            }
            if (char.IsDigit(word[0]))
            {
                // A number glued to letters ("1DROP", "0xpg_sleep"): databases split such a run in different places,
                // so every tail that starts with a letter is checked as a word of its own.
                for (var k = 1; k < word.Length; k++)
                {
                    if (char.IsLetter(word[k]) || word[k] == '_')
                    {
                        Add(TokenKind.Word, word[k..], quoted: false, start + k);
                    }
                }
                return;
            }
            Add(TokenKind.Word, word, quoted: false, start);
        }

        private void SkipLineComment()
        {
            while (_pos < sql.Length && sql[_pos] is not ('\n' or '\r'))
            {
                _pos++;
            }
        }

        private void SkipBlockComment()
        {
            _pos += 2;
            while (_pos < sql.Length)
            {
                if (sql[_pos] == '*' && _pos + 1 < sql.Length && sql[_pos + 1] == '/')
                {
                    _pos += 2;
                    return;
                }
                if (sql[_pos] == '/' && _pos + 1 < sql.Length && sql[_pos + 1] == '*')
                {
                    // Databases disagree on whether comments nest; refusing is the only safe reading.
                    throw new QueryRejectedException("Nested /* comments */ are not supported in source queries.");
                }
                _pos++;
            }
            throw new QueryRejectedException("The query has a /* comment that is never closed.");
        }

        private void ReadString(bool escapes)
        {
            var start = _pos;
            _pos++; // opening quote
            while (_pos < sql.Length)
            {
                var c = sql[_pos];
                if (escapes && c == '\\')
                {
                    _pos += 2;
                    continue;
                }
                if (c == '\'')
                {
                    if (_pos + 1 < sql.Length && sql[_pos + 1] == '\'')
                    {
                        _pos += 2;
                        continue;
                    }
                    _pos++;
                    Add(TokenKind.Literal, "", quoted: true, start);
                    return;
                }
                _pos++;
            }
            throw new QueryRejectedException("The query has a string that is never closed (a missing ').");
        }

        private void ReadQuotedName(char open, char close)
        {
            var start = _pos;
            _pos++;
            var name = new System.Text.StringBuilder();
            while (_pos < sql.Length)
            {
                var c = sql[_pos];
                if (c == close)
                {
                    // "" and `` double inside their quotes; ]] does in SQL Server's brackets but not in SQLite's.
                    if (_pos + 1 < sql.Length && sql[_pos + 1] == close && (open == close || dialect == ConnectionKind.SqlServer))
                    {
                        name.Append(close);
                        _pos += 2;
                        continue;
                    }
                    _pos++;
                    Add(TokenKind.Word, name.ToString(), quoted: true, start);
                    return;
                }
                name.Append(c);
                _pos++;
            }
            throw new QueryRejectedException($"The query has a quoted name that is never closed (a missing {close}).");
        }

        private bool TryReadDollarQuote()
        {
            // $tag$ or $$; "$1" is a parameter, not a quote.
            var start = _pos;
            var i = _pos + 1;
            if (i < sql.Length && char.IsDigit(sql[i]))
            {
                return false;
            }
            while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_'))
            {
                i++;
            }
            if (i >= sql.Length || sql[i] != '$')
            {
                return false;
            }
            var tag = sql[start..(i + 1)];
            var close = sql.IndexOf(tag, i + 1, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new QueryRejectedException("The query has a $-quoted string that is never closed.");
            }
            _pos = close + tag.Length;
            Add(TokenKind.Literal, "", quoted: true, start);
            return true;
        }
    }
}
