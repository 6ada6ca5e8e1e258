using RollingUpgrade.Cli;

// Only a terminal is asked for an SSH key's passphrase; scripts and CI are never prompted.
Func<string, string?>? prompt = Console.IsInputRedirected ? null : Terminal.ReadSecret;
return await CliApp.RunAsync(args, Console.Out, Console.Error, passphrasePrompt: prompt).ConfigureAwait(false);
