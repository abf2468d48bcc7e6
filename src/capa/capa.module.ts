import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { AppConfig } from '../config/app-config';
import { CapaEndpoint } from './capa-endpoint';
import { CapaObserver } from './capa-observer';
import { CapaGateway } from './capa.gateway';

@Module({
  imports: [
    HttpModule.register({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 128 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 128 }),
    }),
  ],
  providers: [
    {
      provide: CapaEndpoint,
      inject: [AppConfig, ModuleRef],
      useFactory: (config: AppConfig, modules: ModuleRef) => CapaEndpoint.open(config, CapaEndpoint.embeddedIn(modules)),
    },
    CapaObserver,
    CapaGateway,
  ],
  exports: [CapaGateway, CapaObserver, CapaEndpoint],
})
export class CapaModule {}
