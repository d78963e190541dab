import { storeContract } from './payment-store-contract';
import { DATABASES } from './test-databases';

// The PaymentStore contract on SQLite and on the test PostgreSQL.
for (const db of DATABASES) storeContract(db);
