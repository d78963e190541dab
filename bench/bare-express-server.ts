import express from 'express';

// The yardstick of the API benchmark: a bare Express JSON POST endpoint, no auth, no checks, no store.
const app = express();
app.use(express.json());
app.post('/echo', (req, res) => {
  res.status(201).json({ ok: true, size: Object.keys(req.body as object).length });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
