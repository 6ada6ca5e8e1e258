using System.Text;

namespace RollingUpgrade.Cli;

/// <summary>Asks for a secret on the terminal without echoing it.</summary>
internal static class Terminal
{
    private static readonly Lock Gate = new();

    public static string? ReadSecret(string keyPath)
    {
        lock (Gate)
        {
            Console.Error.Write($"passphrase for {keyPath}: ");
            var secret = new StringBuilder();
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    break;
                }

                if (key.Key == ConsoleKey.Backspace)
                {
                    secret.Length = Math.Max(0, secret.Length - 1);
                    continue;
                }

                secret.Append(key.KeyChar);
            }

            Console.Error.WriteLine();
            return secret.ToString();
        }
    }
}
